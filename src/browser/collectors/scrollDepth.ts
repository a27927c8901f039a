/**
 * How far down each page view was read: the deepest point seen, in quarters
 * of the page (0, 25, 50, 75, 100), sent once when the page view ends. A page
 * that fits the window counts as read to the end.
 */
import { guard, type Tracker } from '../Tracker.js';

function depthNow(): number {
  const height = document.documentElement.scrollHeight;
  const seen = scrollY + innerHeight;
  return height <= innerHeight ? 100 : Math.min(100, Math.floor((seen / height) * 4) * 25);
}

export function scrollDepth(tracker: Tracker): void {
  let page = tracker.page;
  let deepest = 0;
  let scheduled = false;
  addEventListener('scroll', guard(() => {
    if (scheduled) return;
    // Measure at most once a frame: scrolling stays smooth.
    scheduled = true;
    requestAnimationFrame(guard(() => {
      scheduled = false;
      if (page !== tracker.page) (page = tracker.page), (deepest = 0);
      deepest = Math.max(deepest, depthNow());
    }));
  }), { passive: true });
  tracker.onPageEnd((ended) => {
    const depth = ended === page ? Math.max(deepest, depthNow()) : depthNow();
    tracker.emit({ t: 'scroll', v: depth }, ended);
    page = tracker.page;
    deepest = 0;
  });
}
