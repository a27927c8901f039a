/**
 * Flush on SIGTERM / SIGINT / beforeExit with a deadline, then let the process
 * end exactly as it would have without us:
 *  - a signal the app also listens to: flush, then nothing more (the app is in charge);
 *  - a signal nobody else listens to: shut down, then re-raise it so the
 *    process still dies by that signal (an app without a handler must not be
 *    kept alive, as auto-instrumentations-node's register does);
 *  - beforeExit: flush only if spans ended since the last flush, so an idle
 *    process is never kept alive by flush after flush;
 *  - exit (process.exit() anywhere, an uncaught exception, an unhandled
 *    rejection): Node runs 'exit' listeners synchronously and then ends, so
 *    the spans left are sent synchronously (flushSync), with the requests
 *    still open ended first. Node then prints the error and exits with the
 *    code it would have used: we add no 'uncaughtException' listener (that
 *    would keep the process alive), only the monitor, which observes.
 * A signal the app listens to is flushed synchronously too: its handler often
 * calls process.exit() in the same tick, which would cut an async export off.
 */
import { diag } from '@opentelemetry/api';

/** What the handlers drive. */
export interface ExitWork {
  timeoutMs: number;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
  /** Whether anything was buffered since the last flush; cleared by the caller's flush. */
  hasPending(): boolean;
  /**
   * Sends the buffered spans before returning. `ending`: the process ends now,
   * so requests still open are ended first, failed by `fatal` when it is set.
   */
  flushSync(ending: { fatal: unknown } | null): void;
  /** Says, in one stderr line, what could not be stored before the process ends (audit events left in the spool). */
  reportUnstored(): void;
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
      flushSync(null);
      withDeadline(work.flush, work.timeoutMs, false, () => inFlight.delete(signal));
    } else {
      // Hold the process open until the deadline, then die by the same signal.
      withDeadline(work.shutdown, work.timeoutMs, true, () => reraise(signal));
    }
  };

  const pending = (): boolean => {
    try {
      return work.hasPending();
    } catch (err) {
      diag.error('cvd-activity: pending check failed', err);
      return false;
    }
  };

  const flushSync = (ending: { fatal: unknown } | null): void => {
    try {
      work.flushSync(ending);
    } catch (err) {
      diag.error('cvd-activity: flush at exit failed', err);
    }
  };

  // The last uncaught error: what failed the requests still open if the process then ends
  // with an error code (by Node, or by the app's own handler calling process.exit(1)).
  let uncaught: { error: unknown } | undefined;
  const onUncaught = (error: unknown): void => {
    uncaught = { error };
  };
  const onExit = (code: number): void => {
    flushSync({ fatal: code !== 0 ? uncaught?.error : undefined });
    reportUnstored();
  };
  const reportUnstored = (): void => {
    try {
      work.reportUnstored();
    } catch (err) {
      diag.error('cvd-activity: could not report what is left at exit', err);
    }
  };

  const onBeforeExit = (): void => {
    if (flushedOnce && !pending()) return;
    flushedOnce = true;
    withDeadline(work.flush, work.timeoutMs, false, () => undefined);
  };

  const uninstall = (): void => {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    process.removeListener('beforeExit', onBeforeExit);
    process.removeListener('uncaughtExceptionMonitor', onUncaught);
    process.removeListener('exit', onExit);
  };

  function reraise(signal: NodeJS.Signals): void {
    uninstall();
    reportUnstored();
    // With no listener left, node restores the default action: the process ends by `signal`.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  }

  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('beforeExit', onBeforeExit);
  process.on('uncaughtExceptionMonitor', onUncaught);
  process.on('exit', onExit);
  return uninstall;
}
