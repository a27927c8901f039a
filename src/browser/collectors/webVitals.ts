/**
 * Web vitals of the document load, measured by Google's `web-vitals` (TTFB,
 * FCP, LCP, INP, CLS: the same definitions as Chrome's UX report), and the
 * time to first interaction (first pointer or key press after the page view
 * began), for every page view. Vitals belong to the load's page view even when
 * they are final only after an SPA route change.
 */
import { onCLS, onFCP, onINP, onLCP, onTTFB } from 'web-vitals';
import type { Metric } from 'web-vitals';
import { guard, type Tracker } from '../Tracker.js';

export function webVitals(tracker: Tracker): void {
  const report = guard((metric: Metric) => {
    // Milliseconds to the unit; CLS (a unitless score) to three decimals.
    const v = metric.name === 'CLS' ? Math.round(metric.value * 1000) / 1000 : Math.round(metric.value);
    tracker.emit({ t: 'vital', n: metric.name, v }, tracker.loadPage);
  });
  onTTFB(report);
  onFCP(report);
  onLCP(report);
  onINP(report);
  onCLS(report);

  const interacted = new WeakSet<object>();
  const firstInteraction = guard((e: Event) => {
    const page = tracker.page;
    if (interacted.has(page)) return;
    interacted.add(page);
    tracker.emit({ t: 'vital', n: 'TTI', v: Math.max(0, Math.round(e.timeStamp - page.startedAt)) });
  });
  for (const type of ['pointerdown', 'keydown']) addEventListener(type, firstInteraction, { capture: true, passive: true });
}
