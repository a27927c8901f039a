/** Pending forceFlush() calls of the pipeline: each waits until its target count of events is committed. */

interface FlushWaiter {
  target: number;
  resolve(): void;
  timer: NodeJS.Timeout;
}

/** The forceFlush() calls waiting for commits. */
export class FlushWaiters {
  private waiters: FlushWaiter[] = [];

  /** True while any flush waits. */
  get pending(): boolean {
    return this.waiters.length > 0;
  }

  /**
   * Resolves once `committed()` reaches `target`; rejects with `onTimeout()`'s
   * error after `timeoutMs`. The timer is deliberately not unref()'d: an
   * awaited flush holds the process up to its deadline, so a shutdown from
   * `beforeExit` finishes writing instead of exiting with a batch in flight.
   */
  wait(target: number, timeoutMs: number, onTimeout: () => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(onTimeout());
      }, timeoutMs);
      const waiter: FlushWaiter = { target, resolve, timer };
      this.waiters.push(waiter);
    });
  }

  /** Resolves the flushes whose target is reached. */
  settle(committed: number): void {
    this.waiters = this.waiters.filter((w) => {
      if (w.target > committed) return true;
      clearTimeout(w.timer);
      w.resolve();
      return false;
    });
  }

  /** Resolves every flush (at shutdown: what they waited for stays in the spool, and the shutdown said so). */
  releaseAll(): void {
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
  }
}
