/**
 * The order of a writer's overlapping writeBatch calls: each call chains
 * after the rows of the call before (once those are hashed, not committed)
 * and commits only after that call committed.
 */

/** A writeBatch call's place in its stream. */
export interface Turn {
  /** Settles when the call before has hashed its rows (or failed). */
  readonly prevChained: Promise<void>;
  /** true when the call before committed (or had settled before this call), false when it failed. */
  readonly prevCommitted: Promise<boolean>;
  /** This call's rows are hashed: the next call may chain on. Idempotent. */
  chained(): void;
  /** This call committed (true) or failed (false). */
  committed(ok: boolean): void;
}

interface TurnState extends Turn {
  chainedP: Promise<void>;
  committedP: Promise<boolean>;
  settled: boolean;
}

/** Hands out turns in call order. */
export class BatchOrder {
  private last: TurnState | null = null;

  /**
   * The next call's turn. If the call before was still pending when this one
   * was made and then fails, this one must fail too, so rows never commit out
   * of order; a call made after the previous one settled waits for nothing.
   */
  next(): Turn {
    const previous = this.last;
    const pending = previous !== null && !previous.settled;
    const turn: TurnState = {
      prevChained: pending ? previous.chainedP : Promise.resolve(),
      prevCommitted: pending ? previous.committedP : Promise.resolve(true),
      chainedP: Promise.resolve(),
      committedP: Promise.resolve(true),
      settled: false,
      chained: () => {},
      committed: () => {},
    };
    turn.chainedP = new Promise<void>((resolve) => (turn.chained = resolve));
    turn.committedP = new Promise<boolean>((resolve) => {
      turn.committed = (ok) => {
        turn.settled = true;
        resolve(ok);
      };
    });
    this.last = turn;
    return turn;
  }
}
