/**
 * The *User experience* dashboard: what browsers reported through
 * `cvd-activity/browser` (table browser_events): page load vitals, page views,
 * feature adoption, forms, search, errors and recovery, audience, scroll depth.
 * Users are the server's (setUser()), so "distinct users" is exact.
 */
import { Dashboard, FILTERABLE, TABLE_OPTIONS, sql, traceLinkOverride } from './grafana';
import type { PanelSpec } from './grafana';

/** The browser events as dashboards read them (the default schema). */
export const BROWSER_EVENTS = 'cvd_activity.browser_events';
const IN_RANGE = '$__timeFilter(received_at)';
const PAGE = 'coalesce(route, page)';

const p75 = (vital: string, alias: string): string =>
  `round((percentile_cont(0.75) WITHIN GROUP (ORDER BY value) FILTER (WHERE name = '${vital}'))::numeric, ${vital === 'CLS' ? 3 : 0}) AS ${alias}`;

/** Users (or anonymous page views) per value of `column`, largest first. */
function share(column: string, label: string): string {
  return `
SELECT coalesce(${column}, 'unknown') AS ${label}, count(DISTINCT coalesce(user_id, page_view_id)) AS users
FROM ${BROWSER_EVENTS}
WHERE type = 'page_view' AND ${IN_RANGE}
GROUP BY 1 ORDER BY users DESC LIMIT 10`;
}

/** A table panel with filterable columns. */
function table(d: Dashboard, spec: Omit<PanelSpec, 'type'>): void {
  d.panel({ ...spec, type: 'table', fieldConfig: { custom: FILTERABLE }, options: TABLE_OPTIONS });
}

/** `numerator` events per `denominator` event (both event types), or null when there is none. */
const rate = (numerator: string, denominator: string, alias: string): string =>
  `round(count(*) FILTER (WHERE ${numerator})::numeric / nullif(count(*) FILTER (WHERE ${denominator}), 0), 3) AS ${alias}`;

const BARS = { orientation: 'horizontal', displayMode: 'basic', showUnfilled: true, reduceOptions: { calcs: ['lastNotNull'], fields: '', values: true } };

function loadPanels(d: Dashboard): void {
  d.row('Page load');
  table(d, {
    title: 'Web vitals p75 per page',
    w: 16,
    description: 'The 75th percentile of LCP, INP, CLS, FCP, TTFB and time to first interaction per page (route template when the app names one): Google\'s "good" is LCP ≤ 2500 ms, INP ≤ 200 ms, CLS ≤ 0.1.',
    targets: [sql(`
SELECT ${PAGE} AS page, count(DISTINCT page_view_id) AS page_views,
       ${p75('LCP', 'lcp_ms')}, ${p75('INP', 'inp_ms')}, ${p75('CLS', 'cls')},
       ${p75('FCP', 'fcp_ms')}, ${p75('TTFB', 'ttfb_ms')}, ${p75('TTI', 'first_interaction_ms')}
FROM ${BROWSER_EVENTS}
WHERE type = 'vital' AND ${IN_RANGE}
GROUP BY 1 ORDER BY lcp_ms DESC NULLS LAST LIMIT 100`)],
  });
  d.panel({
    title: 'Slowest pages (LCP p75)',
    type: 'bargauge',
    w: 8,
    unit: 'ms',
    description: 'The ten pages whose largest contentful paint takes longest for three users in four: where to look first.',
    targets: [sql(`
SELECT ${PAGE} AS page, percentile_cont(0.75) WITHIN GROUP (ORDER BY value) AS lcp_p75
FROM ${BROWSER_EVENTS}
WHERE type = 'vital' AND name = 'LCP' AND ${IN_RANGE}
GROUP BY 1 ORDER BY 2 DESC LIMIT 10`)],
    options: BARS,
  });
}

function usagePanels(d: Dashboard): void {
  d.row('Use');
  d.panel({
    title: 'Page views and users per day',
    type: 'timeseries',
    description: 'Page views (first loads and SPA route changes) and distinct signed-in users per day.',
    targets: [sql(`
SELECT $__timeGroupAlias(received_at, '1d'), 'page views' AS metric, count(*) AS value
FROM ${BROWSER_EVENTS} WHERE type = 'page_view' AND ${IN_RANGE} GROUP BY 1, 2
UNION ALL
SELECT $__timeGroupAlias(received_at, '1d'), 'users' AS metric, count(DISTINCT user_id) AS value
FROM ${BROWSER_EVENTS} WHERE type = 'page_view' AND ${IN_RANGE} GROUP BY 1, 2
ORDER BY 1`, 'time_series')],
    fieldConfig: { custom: { drawStyle: 'bars', fillOpacity: 60 } },
  });
  table(d, {
    title: 'Feature adoption (distinct users per feature per week)',
    description: 'How many different users used each marked feature (data-activity="…") per week, and how often: adoption, not just clicks.',
    targets: [sql(`
SELECT date_trunc('week', received_at) AS week, name AS feature, count(DISTINCT user_id) AS users, count(*) AS uses
FROM ${BROWSER_EVENTS}
WHERE type = 'click' AND ${IN_RANGE}
GROUP BY 1, 2 ORDER BY 1 DESC, users DESC LIMIT 200`)],
  });
}

function formAndSearchPanels(d: Dashboard): void {
  d.row('Forms and search');
  table(d, {
    title: 'Form completion rate',
    w: 8,
    description: 'Per marked form: how often it was started, submitted, abandoned, refused by validation, and the share of starts that ended in a submit.',
    targets: [sql(`
SELECT name AS form, count(*) FILTER (WHERE type = 'form_start') AS started,
       count(*) FILTER (WHERE type = 'form_submit') AS submitted,
       count(*) FILTER (WHERE type = 'form_abandon') AS abandoned,
       count(*) FILTER (WHERE type = 'form_invalid') AS validation_errors,
       ${rate("type = 'form_submit'", "type = 'form_start'", 'completion_rate')}
FROM ${BROWSER_EVENTS}
WHERE type IN ('form_start', 'form_submit', 'form_abandon', 'form_invalid') AND ${IN_RANGE}
GROUP BY 1 ORDER BY started DESC`)],
  });
  table(d, {
    title: 'Top abandoning fields',
    w: 8,
    description: 'The field users touched last before leaving a form unsent, and the fields that fail validation most: where forms lose people.',
    targets: [sql(`
SELECT name AS form, details->>'field' AS field,
       count(*) FILTER (WHERE type = 'form_abandon') AS abandons,
       count(*) FILTER (WHERE type = 'form_invalid') AS validation_errors
FROM ${BROWSER_EVENTS}
WHERE type IN ('form_abandon', 'form_invalid') AND details ? 'field' AND ${IN_RANGE}
GROUP BY 1, 2 ORDER BY abandons DESC, validation_errors DESC LIMIT 20`)],
  });
  table(d, {
    title: 'Search effectiveness',
    w: 8,
    description: 'Per search box: searches, the share that found nothing, and the share ending in a result click (click-through), a refined query, or nothing.',
    targets: [sql(`
SELECT name AS search_box, count(*) FILTER (WHERE type = 'search') AS searches,
       ${rate("type = 'search' AND value = 0", "type = 'search'", 'zero_result_share')},
       ${rate("type = 'search_click'", "type = 'search'", 'click_through_rate')},
       ${rate("type = 'search_refine'", "type = 'search'", 'refine_rate')},
       ${rate("type = 'search_abandon'", "type = 'search'", 'abandon_rate')}
FROM ${BROWSER_EVENTS}
WHERE type IN ('search', 'search_click', 'search_refine', 'search_abandon') AND ${IN_RANGE}
GROUP BY 1 ORDER BY searches DESC`)],
  });
}

function errorPanels(d: Dashboard): void {
  d.row('Errors and recovery');
  d.panel({
    title: 'Error recovery rate',
    type: 'stat',
    w: 6,
    unit: 'percentunit',
    description: 'Of the sessions that met an error (uncaught, unhandled rejection, failed API call), the share in which the user still completed a task afterwards.',
    targets: [sql(`
SELECT count(DISTINCT coalesce(session_id, page_view_id)) FILTER (WHERE type = 'recovery')::float
       / nullif(count(DISTINCT coalesce(session_id, page_view_id)) FILTER (WHERE type = 'error'), 0) AS recovery_rate
FROM ${BROWSER_EVENTS}
WHERE type IN ('error', 'recovery') AND ${IN_RANGE}`)],
    options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'none' },
  });
  table(d, {
    title: 'Errors users met',
    w: 18,
    description: 'Uncaught errors, unhandled rejections and failed API calls by page and message: how often, for how many users, and the trace of the latest page view (the page\'s API calls are in it).',
    targets: [sql(`
SELECT ${PAGE} AS page, name AS kind, details->>'message' AS message, count(*) AS errors,
       count(DISTINCT user_id) AS users, max(received_at) AS last_seen,
       (array_agg(trace_id ORDER BY received_at DESC))[1] AS trace_id
FROM ${BROWSER_EVENTS}
WHERE type = 'error' AND ${IN_RANGE}
GROUP BY 1, 2, 3 ORDER BY errors DESC LIMIT 100`)],
    overrides: [traceLinkOverride()],
  });
}

function audiencePanels(d: Dashboard): void {
  d.row('Audience and reading');
  for (const [column, label] of [['browser', 'Browser'], ['os', 'OS'], ['device', 'Device class']] as const) {
    d.panel({
      title: `${label} share`,
      type: 'bargauge',
      w: 6,
      description: `Distinct users (anonymous page views counted one each) per ${label.toLowerCase()}, from the User-Agent header the server saw.`,
      targets: [sql(share(column, column))],
      options: BARS,
    });
  }
  table(d, {
    title: 'Scroll depth per page',
    w: 6,
    description: 'How far down each page users read: page views measured, and the share reaching half and the end of the page.',
    targets: [sql(`
SELECT ${PAGE} AS page, count(*) AS page_views,
       round(avg((value >= 50)::int), 3) AS reached_half, round(avg((value = 100)::int), 3) AS reached_end
FROM ${BROWSER_EVENTS}
WHERE type = 'scroll' AND ${IN_RANGE}
GROUP BY 1 ORDER BY page_views DESC LIMIT 50`)],
  });
}

/** Builds the dashboard JSON. */
export function userExperienceDashboard(): Record<string, unknown> {
  const d = new Dashboard(
    'cvd-user-experience',
    'cvd-activity · User experience',
    'What users met in the browser (cvd-activity/browser → browser_events): page load vitals, page views, feature adoption, forms, search, errors and recovery, browsers and scroll depth. Users are the server\'s, never what a browser claims.',
  );
  loadPanels(d);
  usagePanels(d);
  formAndSearchPanels(d);
  errorPanels(d);
  audiencePanels(d);
  return d.toJSON();
}
