/**
 * Flush on SIGTERM / SIGINT / beforeExit with a deadline, then let the process
 * end exactly as it would have without us:
 *  - a signal the app also listens to: flush, then nothing more (the app is in charge);
 *  - a signal nobody else listens to: shut down, then re-raise it so the
 *    process still dies by that signal (an app without a handler must not be
 *    kept alive, as auto-instrumentations-node's register does);
 *  - beforeExit: flush only if spans ended since the last flush, so an idle
 *    process is never kept alive by flush after flush.
 */
import { diag } from '@opentelemetry/api';

/** What the handlers drive. */
export interface ExitWork {
  timeoutMs: number;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  /** Whether anything was buffered since the last flush; cleared by the caller's flush. */
  hasPending(): boolean;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/** Runs `work` until done or until `timeoutMs`; a ref'd deadline keeps the process alive only when `hold` is set. */
function withDeadline(work: () => Promise<void>, timeoutMs: number, hold: boolean, then: () => void): void {
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    then();
  };
  const timer = setTimeout(() => {
    diag.warn(`cvd-activity: flush did not finish within ${timeoutMs} ms; giving up`);
    finish();
  }, timeoutMs);
  if (!hold) timer.unref();
  let promise: Promise<void>;
  try {
    promise = work();
  } catch (err) {
    promise = Promise.reject(err);
  }
  promise.then(finish, (err: unknown) => {
    diag.error('cvd-activity: flush on exit failed', err);
    finish();
  });
}

/** Installs the handlers; returns a function that removes them. */
export function installExitHandlers(work: ExitWork): () => void {
  const inFlight = new Set<NodeJS.Signals>();
  let flushedOnce = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    const appListens = process.listenerCount(signal) > 1;
    if (inFlight.has(signal)) {
      // A second signal while we flush: the sender insists; stop waiting.
      if (!appListens) reraise(signal);
      return;
    }
    inFlight.add(signal);
    if (appListens) {
      withDeadline(work.flush, work.timeoutMs, false, () => inFlight.delete(signal));
    } else {
      // Hold the process open until the deadline, then die by the same signal.
      withDeadline(work.shutdown, work.timeoutMs, true, () => reraise(signal));
    }
  };

  const onBeforeExit = (): void => {
    if (flushedOnce && !work.hasPending()) return;
    flushedOnce = true;
    withDeadline(work.flush, work.timeoutMs, false, () => undefined);
  };

  const uninstall = (): void => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    process.removeListener('beforeExit', onBeforeExit);
  };

  function reraise(signal: NodeJS.Signals): void {
    uninstall();
    // With no listener left, node restores the default action: the process ends by `signal`.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  }

  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('beforeExit', onBeforeExit);
  return uninstall;
}
