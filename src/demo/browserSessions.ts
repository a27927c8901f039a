/**
 * Browser sessions of the simulated day: people using the web UI, sent the
 * way `cvd-activity/browser` sends them. Each session loads the device list,
 * searches, maybe opens a result, goes to the price form (submitted or
 * abandoned), sometimes meets an error and exports afterwards, and leaves:
 * the page requests and API calls carry the page view's `traceparent`, and the
 * batches go to the demo's browser-activity endpoint under the user's session.
 * Vitals are drawn from plausible ranges (a simulator has no renderer).
 */
import { randomBytes } from 'node:crypto';
import type { Actor, Client } from './client';

/** What the browser sessions sent, for the summary and the tests. */
export interface BrowserTally {
  sessions: number;
  /** Events the endpoint accepted (answered 204). */
  events: number;
  /** Distinct users with at least one accepted batch. */
  users: string[];
}

interface Page {
  id: string;
  tid: string;
  path: string;
  route: string;
  events: Array<Record<string, string | number>>;
}

const ENDPOINT = '/cvd-activity/browser';
const SEARCHES = ['hospital', 'station', 'campus', 'airport', 'vm-10', 'zzz'];

function page(path: string, route: string): Page {
  return { id: randomBytes(8).toString('hex'), tid: randomBytes(16).toString('hex'), path, route, events: [] };
}

/** Browser sessions bound to a client and a random source. */
export function browserSessions(client: Client, rand: () => number) {
  const tally: BrowserTally = { sessions: 0, events: 0, users: [] };
  const between = (lo: number, hi: number): number => Math.round(lo + rand() * (hi - lo));
  const ms = () => between(0, 20_000);

  /** API call of the page: same origin, so it carries the page view's trace. */
  const call = (who: Actor, p: Page, method: string, path: string, opts: { json?: unknown; audit?: string } = {}) =>
    client.send(who, method, path, { ...opts, headers: { traceparent: `00-${p.tid}-${randomBytes(8).toString('hex')}-01` } });

  async function sendBatch(who: Actor, pages: Page[]): Promise<void> {
    const events = pages.reduce((n, p) => n + p.events.length, 0);
    const res = await client.send(who, 'POST', ENDPOINT, { json: { v: 1, pages } });
    if (res.status !== 204) return;
    tally.events += events;
    if (!tally.users.includes(who.name)) tally.users.push(who.name);
  }

  function vitals(p: Page): void {
    const ttfb = between(40, 400);
    const fcp = ttfb + between(100, 900);
    const lcp = fcp + between(0, rand() < 0.2 ? 4000 : 1200);
    p.events.push({ t: 'page_view', ago: ms(), n: 'load' }, { t: 'vital', ago: ms(), n: 'TTFB', v: ttfb }, { t: 'vital', ago: ms(), n: 'FCP', v: fcp },
      { t: 'vital', ago: ms(), n: 'LCP', v: lcp }, { t: 'vital', ago: ms(), n: 'CLS', v: Math.round(rand() * rand() * 300) / 1000 },
      { t: 'vital', ago: ms(), n: 'INP', v: between(24, rand() < 0.1 ? 700 : 250) }, { t: 'vital', ago: ms(), n: 'TTI', v: lcp + between(200, 4000) });
  }

  async function devicesPage(who: Actor, list: Page): Promise<Page | undefined> {
    await client.send(who, 'GET', '/app/devices');
    vitals(list);
    await call(who, list, 'GET', '/api/devices?limit=500');
    const q = SEARCHES[Math.floor(rand() * SEARCHES.length)];
    const found = await call(who, list, 'GET', `/api/devices?limit=500&q=${q}`);
    const total = (found.body as { total?: number } | null)?.total ?? 0;
    list.events.push({ t: 'search', ago: ms(), n: 'devices', q, len: q.length, v: total });
    let opened: Page | undefined;
    if (total > 0 && rand() < 0.7) {
      const position = 1 + Math.floor(rand() * Math.min(total, 5));
      list.events.push({ t: 'search_click', ago: ms(), n: 'devices', v: position });
      const devices = (found.body as { devices: Array<{ id: string }> }).devices;
      opened = page(`/app/devices/${devices[position - 1]!.id}`, '/app/devices/:id');
      opened.events.push({ t: 'page_view', ago: ms(), n: 'route' }, { t: 'scroll', ago: ms(), v: 100 });
      await call(who, opened, 'GET', `/api/devices/${devices[position - 1]!.id}`);
    } else {
      list.events.push({ t: rand() < 0.5 ? 'search_refine' : 'search_abandon', ago: ms(), n: 'devices' });
    }
    list.events.push({ t: 'scroll', ago: ms(), v: [25, 50, 75, 100][Math.floor(rand() * 4)]! });
    return opened;
  }

  async function pricesPage(who: Actor, prices: Page): Promise<void> {
    prices.events.push({ t: 'page_view', ago: ms(), n: 'route' }, { t: 'form_start', ago: ms(), n: 'price-change' });
    await call(who, prices, 'GET', '/api/products');
    if (rand() < 0.3) prices.events.push({ t: 'form_invalid', ago: ms(), n: 'price-change', f: 'priceCents' });
    if (rand() < 0.35) {
      prices.events.push({ t: 'form_abandon', ago: ms(), n: 'price-change', f: rand() < 0.7 ? 'priceCents' : 'product' });
    } else {
      prices.events.push({ t: 'form_submit', ago: ms(), n: 'price-change' });
      const product = `prd-${String(1 + Math.floor(rand() * 24)).padStart(4, '0')}`;
      await call(who, prices, 'PUT', `/api/products/${product}/price`, { json: { priceCents: between(80, 400) }, audit: 'PRICE_CHANGE' });
    }
    if (rand() < 0.3) {
      // The fleet map's bug, and whether the user still got their export afterwards.
      prices.events.push({ t: 'click', ago: ms(), n: 'fleet-map' }, { t: 'error', ago: ms(), n: 'error', m: "Cannot read properties of undefined (reading 'length')" });
      if (rand() < 0.6) prices.events.push({ t: 'click', ago: ms(), n: 'export-csv' }, { t: 'recovery', ago: ms(), n: 'export-csv', v: between(2000, 60_000) });
    } else if (rand() < 0.4) {
      prices.events.push({ t: 'click', ago: ms(), n: 'export-csv' });
    }
    if (prices.events.some((e) => e.n === 'export-csv' && e.t === 'click')) {
      await call(who, prices, 'GET', '/api/reports/sales/export?format=csv', { audit: 'DATA_EXPORT' });
    }
    prices.events.push({ t: 'scroll', ago: ms(), v: 100 });
  }

  /** One visit of `who` to the web UI, from the device list to leaving. */
  async function session(who: Actor): Promise<void> {
    tally.sessions++;
    const list = page('/app/devices', '/app/devices');
    const opened = await devicesPage(who, list);
    const prices = page('/app/prices', '/app/prices');
    await pricesPage(who, prices);
    // Page hide: one beacon with everything of the visit.
    await sendBatch(who, [list, ...(opened ? [opened] : []), prices]);
  }

  return { session, tally };
}
