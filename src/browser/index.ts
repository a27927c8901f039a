/**
 * `cvd-activity/browser`: what happens in the browser, reported to the app's
 * own server (see docs/browser.md). Two ways in:
 *
 *   startBrowserActivity({ endpoint: '/cvd-activity/browser' })   // everything
 *   createBrowserActivity(options, [pageViews, webVitals, forms]) // only these (the rest is tree-shaken)
 *
 * No cookies; nothing when Global Privacy Control is on; a sampling option;
 * every listener passive and guarded, sends batched off the main path.
 */
import { errors } from './collectors/errors.js';
import { featureClicks } from './collectors/featureClicks.js';
import { forms, reportFormInvalid } from './collectors/forms.js';
import { pageViews } from './collectors/pageViews.js';
import { scrollDepth } from './collectors/scrollDepth.js';
import { Searches } from './collectors/searches.js';
import { webVitals } from './collectors/webVitals.js';
import { cleanName } from './names.js';
import { Tracker } from './Tracker.js';
import type { Collector } from './Tracker.js';
import type { BrowserActivity, BrowserActivityOptions } from './types.js';

export type { BrowserActivity, BrowserActivityOptions } from './types.js';
export type { Collector } from './Tracker.js';
export { errors, featureClicks, forms, pageViews, scrollDepth, webVitals };
/** Search collection (a collector with state: `searchResults()` reports to it). */
export const searches: Collector = (tracker) => void new Searches(tracker);

const SAMPLED_KEY = 'cvd-activity.sampled';

/** Whether this tab reports, decided once per tab session so a session is never half recorded. */
function sampledIn(rate: number): boolean {
  if (rate >= 1) return true;
  try {
    const kept = sessionStorage.getItem(SAMPLED_KEY);
    if (kept !== null) return kept === '1';
    const decision = Math.random() < rate;
    sessionStorage.setItem(SAMPLED_KEY, decision ? '1' : '0');
    return decision;
  } catch {
    return Math.random() < rate;
  }
}

function shouldCollect(options: BrowserActivityOptions): boolean {
  if (typeof window === 'undefined' || typeof document === 'undefined') return false;
  const gpc = (navigator as Navigator & { globalPrivacyControl?: boolean }).globalPrivacyControl === true;
  if (gpc && options.honorGlobalPrivacyControl !== false) return false;
  return sampledIn(options.sampleRate ?? 1);
}

const INACTIVE: BrowserActivity = {
  active: false, setRoute() {}, searchResults() {}, formInvalid() {}, feature() {}, flush() {}, stop() {},
};

/** Starts the given collectors (page views are always on). Never throws; inactive when it must not collect. */
export function createBrowserActivity(options: BrowserActivityOptions, collectors: readonly Collector[]): BrowserActivity {
  try {
    if (!shouldCollect(options)) return INACTIVE;
    const tracker = new Tracker({
      endpoint: options.endpoint ?? '/cvd-activity/browser',
      sampleRate: options.sampleRate ?? 1,
      flushIntervalMs: options.flushIntervalMs ?? 5000,
      maxQueuedEvents: options.maxQueuedEvents ?? 500,
      traceApiCalls: options.traceApiCalls ?? true,
      honorGlobalPrivacyControl: options.honorGlobalPrivacyControl ?? true,
      route: options.route,
    });
    let search: Searches | undefined;
    for (const collect of [pageViews, ...collectors.filter((c) => c !== pageViews)]) {
      if (collect === searches) search = new Searches(tracker);
      else collect(tracker);
    }
    return {
      active: true,
      setRoute: (template) => void (tracker.page.route = String(template).slice(0, 128)),
      searchResults: (name, count) => search?.results(name, count),
      formInvalid: (form, field) => reportFormInvalid(tracker, form, field),
      feature: (name) => {
        const n = cleanName(name);
        if (n) tracker.emit({ t: 'click', n }), tracker.taskCompleted(n);
      },
      flush: () => tracker.flush(false),
      stop: () => tracker.stop(),
    };
  } catch {
    return INACTIVE;
  }
}

/** Starts collecting everything: page views, web vitals, marked clicks, searches, forms, errors, scroll depth. */
export function startBrowserActivity(options: BrowserActivityOptions = {}): BrowserActivity {
  return createBrowserActivity(options, [webVitals, featureClicks, searches, forms, errors, scrollDepth]);
}
