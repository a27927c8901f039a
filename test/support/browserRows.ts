/** Browser events for dashboard tests, stored through the real BrowserEventWriter. */
import { BrowserEventWriter, type BrowserEventRow } from '../../src/store/BrowserEventWriter';

/** What a test says about one browser event; the rest gets plausible defaults. */
export interface BrowserEventSpec {
  type: string;
  at: Date;
  user?: string | null;
  session?: string | null;
  pageView?: string;
  page?: string;
  route?: string | null;
  name?: string | null;
  value?: number | null;
  details?: Record<string, string | number>;
  browser?: string;
  os?: string;
  device?: string;
}

export function browserRow(e: BrowserEventSpec): BrowserEventRow {
  return {
    received_at: e.at.toISOString(), occurred_at: e.at.toISOString(), type: e.type,
    user_id: e.user === undefined ? 'alice' : e.user, session_id: e.session === undefined ? 's-alice' : e.session,
    page_view_id: e.pageView ?? 'pv-1', trace_id: '0123456789abcdef0123456789abcdef',
    page: e.page ?? '/app/devices', route: e.route === undefined ? '/app/devices' : e.route,
    name: e.name ?? null, value: e.value ?? null, details: e.details ?? {},
    browser: e.browser ?? 'Chrome 156', os: e.os ?? 'Linux', device: e.device ?? 'desktop', client_address: '198.51.100.10',
  };
}

/** Stores `specs` in `schema` and waits until they are written. */
export async function seedBrowserEvents(url: string, schema: string, specs: BrowserEventSpec[]): Promise<void> {
  const writer = new BrowserEventWriter({ connectionString: url, schema, onError: (err) => { throw err; } });
  try {
    writer.enqueue(specs.map(browserRow));
    await writer.flush();
    if (writer.stats.written !== specs.length) throw new Error(`seeded ${writer.stats.written} of ${specs.length} browser events`);
  } finally {
    await writer.close();
  }
}

/**
 * A small day of two users: alice (Chrome on Linux) and bob (Safari on iOS).
 * Known answers: price-change completion 1 of 2 (0.5), priceCents the top
 * abandoning field, 1 of 2 searches found nothing, 1 click-through, 1 of 2
 * sessions with errors recovered, export-csv used by 2 users.
 */
export function representativeBrowserEvents(now: Date): BrowserEventSpec[] {
  const at = (minutesAgo: number) => new Date(now.getTime() - minutesAgo * 60_000);
  const bob = { user: 'bob', session: 's-bob', pageView: 'pv-2', browser: 'Safari 18', os: 'iOS', device: 'mobile' };
  return [
    { type: 'page_view', at: at(50), name: 'load' },
    { type: 'vital', at: at(50), name: 'TTFB', value: 120 },
    { type: 'vital', at: at(50), name: 'FCP', value: 400 },
    { type: 'vital', at: at(50), name: 'LCP', value: 900 },
    { type: 'vital', at: at(50), name: 'CLS', value: 0.02 },
    { type: 'vital', at: at(50), name: 'INP', value: 80 },
    { type: 'vital', at: at(50), name: 'TTI', value: 1500 },
    { type: 'search', at: at(49), name: 'devices', value: 0, details: { q: 'xyz', len: 3 } },
    { type: 'search_refine', at: at(49), name: 'devices' },
    { type: 'search', at: at(48), name: 'devices', value: 4, details: { q: 'hospital', len: 8 } },
    { type: 'search_click', at: at(48), name: 'devices', value: 2 },
    { type: 'click', at: at(47), name: 'export-csv' },
    { type: 'error', at: at(46), name: 'error', details: { message: 'Cannot read properties of undefined' } },
    { type: 'recovery', at: at(45), name: 'export-csv', value: 60_000 },
    { type: 'scroll', at: at(45), value: 100 },
    { type: 'page_view', at: at(40), ...bob, page: '/app/prices', route: '/app/prices', name: 'load' },
    { type: 'vital', at: at(40), ...bob, page: '/app/prices', route: '/app/prices', name: 'LCP', value: 3200 },
    { type: 'form_start', at: at(39), ...bob, page: '/app/prices', route: '/app/prices', name: 'price-change' },
    { type: 'form_invalid', at: at(39), ...bob, page: '/app/prices', route: '/app/prices', name: 'price-change', details: { field: 'priceCents' } },
    { type: 'form_abandon', at: at(38), ...bob, page: '/app/prices', route: '/app/prices', name: 'price-change', details: { field: 'priceCents' } },
    { type: 'form_start', at: at(37), ...bob, page: '/app/prices', route: '/app/prices', name: 'price-change' },
    { type: 'form_submit', at: at(36), ...bob, page: '/app/prices', route: '/app/prices', name: 'price-change' },
    { type: 'error', at: at(35), ...bob, page: '/app/prices', route: '/app/prices', name: 'fetch', value: 503, details: { message: 'PUT /api/products/prd-0001/price' } },
    { type: 'click', at: at(34), ...bob, page: '/app/prices', route: '/app/prices', name: 'export-csv' },
    { type: 'scroll', at: at(34), ...bob, page: '/app/prices', route: '/app/prices', value: 25 },
  ];
}
