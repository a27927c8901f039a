// The browser module in a real headless Chromium (Debian's `chromium`, driven
// by playwright-core) on the demo's web pages, served by the instrumented demo
// app in a child process; every assertion reads the rows stored in PostgreSQL.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pollUntil } from '../support/poll';
import { startDemoWebApp, type DemoWebApp } from '../support/demoWebApp';

const CHROMIUM = process.env.CVD_ACTIVITY_CHROMIUM_BIN ?? '/usr/bin/chromium';
type Row = Record<string, unknown>;

describe('browser module in headless Chromium (demo web pages)', function () {
  this.timeout(120_000);
  let app: DemoWebApp;
  let context: BrowserContext;
  let profile: string;
  let rows: Row[];
  let hospitalDevices: number;
  const apiCalls: Array<{ path: string; traceparent?: string }> = [];

  /** Clicks a nav link and waits for the view the route change renders. */
  async function go(page: Page, link: string, ready: string): Promise<void> {
    await page.click(`nav a[href="${link}"]`);
    await page.waitForSelector(ready);
  }

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CVD_ACTIVITY_CHROMIUM_BIN)`);
    app = await startDemoWebApp('browser_chromium');
    profile = mkdtempSync(join(tmpdir(), 'cvd-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1000, height: 600 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    const page = context.pages()[0] ?? await context.newPage();
    page.on('request', (req) => {
      if (new URL(req.url()).pathname.startsWith('/api/')) apiCalls.push({ path: new URL(req.url()).pathname + new URL(req.url()).search, traceparent: req.headers().traceparent });
    });
    // Before signing in: this page view belongs to nobody.
    await page.goto(`${app.url}/login`);
    await page.goto(`${app.url}/login`);
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'alice-demo');
    await Promise.all([page.waitForURL('**/app/devices'), page.click('button[type=submit]')]);
    await page.waitForSelector('#devices li');
    await page.evaluate('scrollTo(0, document.documentElement.scrollHeight)'); // code run in the page (no DOM types here)
    await page.waitForTimeout(100); // one frame for the scroll depth measurement
    // Something pasted by mistake: a card number and an e-mail address, found nowhere, then refined.
    await page.fill('input[name=q]', 'Card 4111111111111111 bob@example.com');
    await page.press('input[name=q]', 'Enter');
    await page.waitForFunction(`document.getElementById('count')?.textContent === '0 devices'`);
    await page.fill('input[name=q]', 'Hospital');
    await page.press('input[name=q]', 'Enter');
    await page.waitForFunction(`document.getElementById('count')?.textContent !== '0 devices'`);
    hospitalDevices = (await page.locator('#devices li').count());
    await page.click('#devices li:nth-child(2) a');
    await page.waitForSelector('h2');
    await go(page, '/app/prices', 'form[data-activity-form=price-change]');
    await page.fill('input[name=priceCents]', '150');
    await go(page, '/app/devices', '#devices li'); // leaves the started price form: abandoned
    await go(page, '/app/prices', 'form[data-activity-form=price-change]');
    await page.click('form[data-activity-form=price-change] button'); // empty required price: the browser refuses it
    await page.fill('input[name=priceCents]', '175');
    await page.click('form[data-activity-form=price-change] button');
    await page.waitForFunction(`document.getElementById('price-result')?.textContent === 'Saved'`);
    await page.click('#map'); // the demo's deliberate bug: an uncaught TypeError
    await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    await page.goto('about:blank'); // pagehide: the module sends the rest with sendBeacon
    rows = await pollUntil('the last page view\'s events', async () => {
      const all = await app.rows();
      return all.some((r) => r.type === 'recovery') && all.filter((r) => r.type === 'scroll').length >= 7 ? all : undefined;
    }, 30_000);
  });

  after(async () => {
    await context?.close();
    await app?.stop();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  const of = (type: string): Row[] => rows.filter((r) => r.type === type);

  it('stores a page view per navigation, SPA route changes included, with route templates', () => {
    expect(of('page_view').map((r) => [r.page, r.route, r.name])).to.deep.equal([
      ['/login', '/login', 'load'],
      ['/login', '/login', 'load'],
      ['/app/devices', '/app/devices', 'load'],
      [of('page_view')[3]!.page, '/app/devices/:id', 'route'],
      ['/app/prices', '/app/prices', 'route'],
      ['/app/devices', '/app/devices', 'route'],
      ['/app/prices', '/app/prices', 'route'],
    ]);
    expect(of('page_view')[3]!.page).to.match(/^\/app\/devices\/dev-\d+$/);
    const ids = of('page_view').map((r) => r.page_view_id);
    expect(new Set(ids).size).to.equal(7);
    expect(of('page_view').every((r) => /^[0-9a-f]{32}$/.test(String(r.trace_id)))).to.equal(true);
  });

  it('links the page\'s API calls to its page view: same-origin fetch() carries a traceparent with the page view\'s trace id', () => {
    const search = apiCalls.find((c) => c.path.includes('q=Hospital'))!;
    expect(search.traceparent).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const devicesLoad = of('page_view').find((r) => r.name === 'load' && r.page === '/app/devices')!;
    expect(search.traceparent!.split('-')[1]).to.equal(devicesLoad.trace_id);
    const priceChange = apiCalls.find((c) => c.path.endsWith('/price'))!;
    const lastPrices = of('page_view').filter((r) => r.page === '/app/prices').pop()!;
    expect(priceChange.traceparent!.split('-')[1]).to.equal(lastPrices.trace_id);
    expect(apiCalls.filter((c) => c.path.startsWith('/api/auth/login')).every((c) => /^00-/.test(c.traceparent ?? ''))).to.equal(true);
  });

  it('stores TTFB, FCP and LCP of each document load, in a plausible order, and the time to first interaction', () => {
    const loads = of('page_view').filter((r) => r.name === 'load');
    for (const load of loads.slice(1)) {
      const vitals = Object.fromEntries(of('vital').filter((r) => r.page_view_id === load.page_view_id).map((r) => [r.name, r.value as number]));
      expect(vitals, `vitals of ${load.page}`).to.include.keys('TTFB', 'FCP', 'LCP', 'TTI');
      expect(vitals.TTFB).to.be.greaterThan(0).and.lessThan(vitals.FCP!);
      expect(vitals.FCP).to.be.at.most(vitals.LCP!);
      expect(vitals.LCP).to.be.lessThan(30_000);
    }
  });

  it('stores the marked feature click, the uncaught error and the recovery by the next completed task', () => {
    expect(of('click').map((r) => r.name)).to.deep.equal(['fleet-map', 'export-csv']);
    const [error] = of('error');
    expect(error).to.include({ name: 'error', page: '/app/prices' });
    expect((error!.details as { message: string }).message).to.match(/Cannot read properties of undefined \(reading 'length'\)/);
    const [recovery] = of('recovery');
    expect(recovery).to.include({ name: 'export-csv' });
    expect(new Date(recovery!.occurred_at as string).getTime()).to.be.at.least(new Date(error!.occurred_at as string).getTime());
  });

  it('stores searches with results count, redacted query (never a secret), refinement and the click-through position', () => {
    const [pasted, search] = of('search');
    expect(pasted).to.include({ name: 'devices', value: 0 });
    expect(pasted!.details).to.deep.equal({ q: 'card [number] [email]', len: 37 });
    expect(JSON.stringify(rows)).to.not.match(/4111|example\.com/);
    expect(search).to.include({ name: 'devices', value: hospitalDevices, page: '/app/devices' });
    expect(hospitalDevices).to.be.greaterThan(1);
    expect(search!.details).to.deep.equal({ q: 'hospital', len: 8 });
    expect(of('search_refine').map((r) => r.name)).to.deep.equal(['devices']);
    expect(of('search_click').map((r) => [r.name, r.value])).to.deep.equal([['devices', 2]]);
  });

  it('stores forms started, abandoned on navigating away (with the last field), refused by validation and submitted', () => {
    const forms = rows.filter((r) => String(r.type).startsWith('form_') && r.name === 'price-change')
      .map((r) => [r.type, (r.details as { field?: string }).field ?? null]);
    expect(forms).to.deep.equal([
      ['form_start', null], ['form_abandon', 'priceCents'],
      ['form_start', null], ['form_invalid', 'priceCents'], ['form_submit', null],
    ]);
    expect(rows.filter((r) => r.type === 'form_submit' && r.name === 'login')).to.have.length(1);
  });

  it('stores the scroll depth of each page view, in quarters', () => {
    const devicesLoad = of('page_view').find((r) => r.name === 'load' && r.page === '/app/devices')!;
    expect(of('scroll').find((r) => r.page_view_id === devicesLoad.page_view_id)?.value).to.equal(100);
    expect(of('scroll').every((r) => [0, 25, 50, 75, 100].includes(r.value as number))).to.equal(true);
  });

  it('sends nothing when the browser sends Global Privacy Control', async () => {
    const page = await context.newPage();
    await page.addInitScript('Object.defineProperty(Navigator.prototype, "globalPrivacyControl", { get: () => true })');
    const sent: string[] = [];
    page.on('request', (req) => void (new URL(req.url()).pathname === '/cvd-activity/browser' && sent.push(req.method())));
    await page.goto(`${app.url}/app/devices`);
    await page.waitForSelector('#devices li');
    await page.click('#export');
    expect(await page.evaluate('window.cvdActivity.active')).to.equal(false);
    await page.goto('about:blank');
    await page.close();
    expect(sent).to.deep.equal([]);
  });

  it('sends nothing from a tab sampled out (data-sample-rate="0"), and keeps that decision for the tab', async () => {
    const page = await context.newPage();
    // A page of the app's origin with the script sampled at 0 (served by the browser driver, not the demo).
    await page.route('**/sampled-page', (route) => route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><html><head><script src="/cvd-activity/browser.js" data-sample-rate="0"></script></head><body><button data-activity="x">x</button></body></html>',
    }));
    const sent: string[] = [];
    page.on('request', (req) => void (new URL(req.url()).pathname === '/cvd-activity/browser' && sent.push(req.method())));
    await page.goto(`${app.url}/sampled-page`);
    await page.click('button');
    expect(await page.evaluate('[window.cvdActivity.active, sessionStorage.getItem("cvd-activity.sampled")]')).to.deep.equal([false, '0']);
    await page.goto('about:blank');
    await page.close();
    expect(sent).to.deep.equal([]);
  });

  it('stores browser, OS and device class from the request, and the user the server knows, never one the browser says', () => {
    expect([...new Set(rows.map((r) => `${r.browser}|${r.os}|${r.device}`))]).to.deep.equal(['Chrome 156|Linux|desktop']);
    const firstLogin = of('page_view')[0]!.page_view_id;
    expect([...new Set(rows.filter((r) => r.page_view_id === firstLogin).map((r) => r.user_id))]).to.deep.equal([null]);
    expect([...new Set(rows.filter((r) => r.page_view_id !== firstLogin).map((r) => r.user_id))]).to.deep.equal(['alice']);
  });
});
