// The browser-activity endpoint under hostile input, in the instrumented demo
// app (a child process, real PostgreSQL): every bad batch is answered with a
// 4xx naming the problem, nothing of it is stored, no row ever carries a user
// the browser named, and the app keeps serving.
import { expect } from 'chai';
import { pollUntil } from '../support/poll';
import { startDemoWebApp, type DemoWebApp } from '../support/demoWebApp';

const ENDPOINT = '/cvd-activity/browser';
const PAGE = { id: '0123456789abcdef', tid: '0123456789abcdef0123456789abcdef', path: '/app/devices', route: '/app/devices' };

describe('browser activity endpoint: hostile payloads', function () {
  this.timeout(60_000);
  let app: DemoWebApp;
  let cookie: string;
  let sentinel = 0;

  async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: { error?: string; message?: string } | null }> {
    const res = await fetch(app.url + ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  /** Posts a valid click named `sentinel-N` and waits until it is stored: everything accepted before it is stored too. */
  async function storedUpToNow(): Promise<void> {
    const name = `sentinel-${++sentinel}`;
    expect((await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'click', ago: 0, n: name }] }] })).status).to.equal(204);
    await pollUntil(`the ${name} row`, async () => ((await app.rows('name = $1', [name])).length === 1 ? true : undefined), 10_000);
  }

  before(async () => {
    app = await startDemoWebApp('browser_hostile');
    cookie = await app.login('alice');
  });
  after(async () => app?.stop());

  it('stores a valid batch under the user the server knows, with browser and OS from the User-Agent header', async () => {
    const ua = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36';
    const res = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'vital', ago: 10, n: 'LCP', v: 812 }] }] }, { 'user-agent': ua });
    expect(res.status).to.equal(204);
    const [row] = await pollUntil('the LCP row', async () => ((await app.rows(`type = 'vital'`)).length ? app.rows(`type = 'vital'`) : undefined), 10_000);
    expect(row).to.include({ user_id: 'alice', name: 'LCP', value: 812, page: '/app/devices', route: '/app/devices', browser: 'Chrome 140', os: 'Windows', device: 'desktop' });
    expect(row!.session_id).to.be.a('string').and.not.equal('');
  });

  it('refuses what is not a POST of a JSON batch: 405, 400 for broken JSON', async () => {
    expect((await fetch(app.url + ENDPOINT, { headers: { cookie } })).status).to.equal(405);
    const broken = await post('{"v":1,"pages":[');
    expect(broken).to.deep.include({ status: 400 });
    expect(broken.json).to.deep.equal({ error: 'INVALID_JSON', message: 'body is not valid JSON' });
  });

  it('refuses an oversized body with 413 before reading it all', async () => {
    const big = { v: 1, pages: [{ ...PAGE, events: [{ t: 'error', ago: 0, n: 'error', m: 'x'.repeat(200) }] }], pad: 'y'.repeat(200_000) };
    const res = await post(big);
    expect(res.status).to.equal(413);
    expect(res.json).to.deep.equal({ error: 'BODY_TOO_LARGE', message: 'body over 65536 bytes' });
  });

  it('refuses 10,000 events (413), and more events than a batch may hold even when they fit in the size limit', async () => {
    const many = Array.from({ length: 10_000 }, () => ({ t: 'click', ago: 0, n: 'flood' }));
    expect((await post({ v: 1, pages: [{ ...PAGE, events: many }] })).status).to.equal(413);
    const pages = Array.from({ length: 4 }, (_, i) => ({ ...PAGE, id: `00000000000000${i}a`, events: many.slice(0, 100) }));
    const res = await post({ v: 1, pages });
    expect(res.status).to.equal(413);
    expect(res.json!.message).to.equal('400 events in one batch; at most 300');
  });

  it('refuses deep nesting and wrong types with 400 naming the place', async () => {
    // 5,000 levels of objects (written as text: JSON.stringify itself overflows on it).
    const deep = `${'{"d":'.repeat(5000)}"bottom"${'}'.repeat(5000)}`;
    const event = `{"t":"click","ago":0,"n":"x","d":${deep}}`;
    const nested = await post(`{"v":1,"pages":[{"id":"${PAGE.id}","path":"/app","events":[${event}]}]}`);
    expect(nested.status).to.equal(400);
    expect(nested.json!.message).to.equal('/pages/0/events/0 must NOT have additional properties (d)');
    const arrays = await post(`{"v":1,"pages":${'['.repeat(20_000)}${']'.repeat(20_000)}}`);
    expect(arrays.status).to.equal(400);
    const wrong = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'vital', ago: 'soon', n: 'LCP', v: 100 }] }] });
    expect(wrong.status).to.equal(400);
    expect(wrong.json!.message).to.equal('/pages/0/events/0/ago must be integer');
    const cls = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'vital', ago: 0, n: 'CLS', v: 5000 }] }] });
    expect(cls.json!.message).to.equal('/pages/0/events/0/v must be <= 100');
    const unknown = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'purchase', ago: 0 }] }] });
    expect(unknown.json!.message).to.equal('/pages/0/events/0 value of tag "t" must be in oneOf');
  });

  it('never stores a user the browser names: a user field is refused, user headers are ignored', async () => {
    const forged = await post({ v: 1, user: 'mallory', pages: [{ ...PAGE, events: [{ t: 'click', ago: 0, n: 'export-csv' }] }] });
    expect(forged.status).to.equal(400);
    expect(forged.json!.message).to.equal('(the body) must NOT have additional properties (user)');
    const inEvent = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'click', ago: 0, n: 'export-csv', userId: 'mallory' }] }] });
    expect(inEvent.status).to.equal(400);
    // Headers a client might try: the row still carries the session's user.
    const headers = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'click', ago: 0, n: 'forged-header' }] }] }, { 'x-user-id': 'mallory', 'x-forwarded-for': '203.0.113.9' });
    expect(headers.status).to.equal(204);
    // Without a session: stored, but under no user.
    const anonymous = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'click', ago: 0, n: 'anonymous' }] }] }, { cookie: 'cvd_session=mallory' });
    expect(anonymous.status).to.equal(204);
    await storedUpToNow();
    expect((await app.rows(`user_id = 'mallory' OR details::text LIKE '%mallory%'`))).to.deep.equal([]);
    expect((await app.rows(`name = 'forged-header'`)).map((r) => [r.user_id, r.client_address])).to.deep.equal([['alice', '127.0.0.1']]);
    expect((await app.rows(`name = 'anonymous'`)).map((r) => r.user_id)).to.deep.equal([null]);
  });

  it('refuses markup in names and paths; strips it from free text', async () => {
    const script = '<script>alert(1)</script>';
    expect((await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'click', ago: 0, n: script }] }] })).status).to.equal(400);
    expect((await post({ v: 1, pages: [{ ...PAGE, path: `/app/${script}`, events: [{ t: 'click', ago: 0, n: 'x' }] }] })).status).to.equal(400);
    expect((await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'form_invalid', ago: 0, n: 'login', f: '"><img src=x>' }] }] })).status).to.equal(400);
    const text = await post({ v: 1, pages: [{ ...PAGE, events: [{ t: 'error', ago: 0, n: 'error', m: `boom ${script}<img src=x onerror=alert(1)>` }] }] });
    expect(text.status).to.equal(204);
    await storedUpToNow();
    expect((await app.rows(`type = 'error'`)).map((r) => r.details)).to.deep.equal([{ message: 'boom alert(1)' }]);
    expect(await app.rows(`name LIKE '%<%' OR page LIKE '%<%' OR details::text LIKE '%<%'`)).to.deep.equal([]);
  });

  it('nothing refused was stored; a flood from one client is rate limited (429) and the app keeps serving', async () => {
    await storedUpToNow();
    const types = (await app.rows()).map((r) => `${r.type}:${r.name}`);
    expect(types.filter((t) => !t.startsWith('click:sentinel-'))).to.deep.equal([
      'vital:LCP', 'click:forged-header', 'click:anonymous', 'error:error',
    ]);
    const statuses = await Promise.all(Array.from({ length: 60 }, () => post({ v: 1, pages: [{ ...PAGE, events: [] }] }).then((r) => r.status)));
    expect(statuses).to.include(429);
    expect((await fetch(app.url + '/health')).status).to.equal(200);
    expect((await fetch(app.url + '/api/devices', { headers: { cookie } })).status).to.equal(200);
    expect(app.stderr.join('\n')).to.not.match(/unexpected error|browser activity endpoint failed/);
  });
});
