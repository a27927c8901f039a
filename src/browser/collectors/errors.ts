/**
 * Errors the user met: uncaught exceptions, unhandled promise rejections and
 * failed fetch() calls (network failure or a 5xx answer), and error recovery:
 * the first task (marked click, form submit, search result click) the user
 * completes after an error, with the time it took. The last error's time is
 * kept in sessionStorage, so recovery on the next page of the tab still counts.
 */
import { cleanMessage } from '../names.js';
import { newSpanId } from '../PageView.js';
import { guard, type Tracker } from '../Tracker.js';

const LAST_ERROR_KEY = 'cvd-activity.lastError';

function rememberError(): void {
  try {
    sessionStorage.setItem(LAST_ERROR_KEY, String(Date.now()));
  } catch {
    // Storage may be off (privacy settings): recovery is then counted within the page only.
  }
}

function takeLastError(): number | undefined {
  try {
    const at = Number(sessionStorage.getItem(LAST_ERROR_KEY));
    sessionStorage.removeItem(LAST_ERROR_KEY);
    return at > 0 ? at : undefined;
  } catch {
    return undefined;
  }
}

function sameOrigin(input: RequestInfo | URL): URL | undefined {
  const url = new URL(input instanceof Request ? input.url : String(input), location.href);
  return url.origin === location.origin ? url : undefined;
}

/** Wraps fetch: failures become error events; same-origin calls carry the page view's traceparent. */
function wrapFetch(tracker: Tracker, failed: (status: number, what: string) => void): void {
  const original = window.fetch;
  window.fetch = function (input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    let url: URL | undefined;
    let call = init;
    try {
      url = sameOrigin(input);
      const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
      if (url && tracker.options.traceApiCalls && !headers.has('traceparent')) {
        headers.set('traceparent', `00-${tracker.page.traceId}-${newSpanId()}-01`);
        call = { ...init, headers };
      }
    } catch {
      call = init;
    }
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const what = `${method} ${url ? url.pathname : 'cross-origin'}`;
    return original.call(this, input, call).then((res) => {
      if (res.status >= 500) failed(res.status, what);
      return res;
    }, (err: unknown) => {
      failed(0, what);
      throw err;
    });
  };
}

export function errors(tracker: Tracker): void {
  let lastError = takeLastError();
  const seen = (): void => {
    lastError = Date.now();
    rememberError();
  };
  addEventListener('error', guard((e: ErrorEvent) => {
    // Failed images and scripts fire `error` on their element, not as an ErrorEvent on window.
    if (!(e instanceof ErrorEvent)) return;
    tracker.emit({ t: 'error', n: 'error', m: cleanMessage(e.message) });
    seen();
  }));
  addEventListener('unhandledrejection', guard((e: PromiseRejectionEvent) => {
    const reason = e.reason instanceof Error ? e.reason.message : e.reason;
    tracker.emit({ t: 'error', n: 'rejection', m: cleanMessage(reason) });
    seen();
  }));
  wrapFetch(tracker, guard((status: number, what: string) => {
    tracker.emit({ t: 'error', n: 'fetch', v: status, m: what });
    seen();
  }));
  tracker.onTask((name) => {
    if (lastError === undefined) return;
    tracker.emit({ t: 'recovery', n: name, v: Math.max(0, Date.now() - lastError) });
    lastError = undefined;
    takeLastError();
  });
}
