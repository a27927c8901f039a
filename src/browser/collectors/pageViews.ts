/**
 * Page views: the document load (with its navigation type) and every route
 * change through the History API (pushState, replaceState to another path,
 * back/forward), plus pages restored from the back/forward cache. Leaving or
 * hiding the page sends what is queued with sendBeacon.
 */
import { guard, type Tracker } from '../Tracker.js';

function loadKind(): 'load' | 'reload' | 'back_forward' {
  const nav = performance.getEntriesByType?.('navigation')[0] as PerformanceNavigationTiming | undefined;
  return nav?.type === 'reload' ? 'reload' : nav?.type === 'back_forward' ? 'back_forward' : 'load';
}

export function pageViews(tracker: Tracker): void {
  tracker.emit({ t: 'page_view', n: loadKind() });
  for (const method of ['pushState', 'replaceState'] as const) {
    const original = history[method];
    history[method] = function (this: History, ...args: Parameters<History['pushState']>) {
      const result = original.apply(this, args);
      guard(() => tracker.navigate(location.pathname))();
      return result;
    };
  }
  addEventListener('popstate', guard(() => tracker.navigate(location.pathname, 'back_forward')));
  addEventListener('pageshow', guard((e: PageTransitionEvent) => {
    if (e.persisted) tracker.navigate(location.pathname, 'back_forward');
  }));
  // The last chance to send: the page is being left (or discarded while hidden).
  addEventListener('pagehide', guard(() => {
    tracker.endPage();
    tracker.flush(true);
  }));
  document.addEventListener('visibilitychange', guard(() => {
    if (document.visibilityState === 'hidden') tracker.flush(true);
  }));
}
