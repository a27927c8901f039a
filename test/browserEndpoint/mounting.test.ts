// The endpoint as apps mount it: behind a body parser that already read the
// body (Express's express.json / express.text), and with its own trustProxy
// when cvd-activity's request context is not there (no register loaded).
import type { AddressInfo } from 'node:net';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { expect } from 'chai';
import pg from 'pg';
import { browserActivityEndpoint, type BrowserEndpoint } from '../../src/browserEndpoint/browserActivityEndpoint';
import { migrate } from '../../src/store/migrate';
import { createTestSchema } from '../support/database';

const BATCH = { v: 1, pages: [{ id: '0123456789abcdef', path: '/app/prices', events: [{ t: 'click', ago: 0, n: 'export-csv' }] }] };

describe('browser activity endpoint: mounting', () => {
  let test: Awaited<ReturnType<typeof createTestSchema>>;
  let client: pg.Client;
  let endpoint: BrowserEndpoint;
  let server: Server;
  let base: string;

  before(async () => {
    test = await createTestSchema('browser_mount');
    client = new pg.Client({ connectionString: test.url });
    await client.connect();
    await migrate(client, { schema: test.schema, roles: false });
    endpoint = browserActivityEndpoint({ databaseUrl: test.url, schema: test.schema, trustProxy: ['127.0.0.1/32'], maxBodyBytes: 1024 });
    // A body parser in front, as Express apps have: it reads and parses the JSON itself.
    server = createServer(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      (req as IncomingMessage & { body?: unknown }).body = JSON.parse(text);
      endpoint(req, res);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((done) => server?.close(done));
    await endpoint?.close();
    await client?.end();
    await test?.drop();
  });

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${base}/cvd-activity/browser`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('takes a body a parser already read, and applies the size limit to it too', async () => {
    expect((await post(BATCH, { 'x-forwarded-for': '198.51.100.77' })).status).to.equal(204);
    const big = await post({ ...BATCH, pad: 'x'.repeat(2000) });
    expect(big.status).to.equal(413);
    expect(await big.json()).to.deep.equal({ error: 'BODY_TOO_LARGE', message: 'body over 1024 bytes' });
  });

  it('resolves the client address with its trustProxy setting when no request context has one, and stores no user', async () => {
    await endpoint.flush();
    const { rows } = await client.query(`SELECT name, user_id, client_address FROM "${test.schema}".browser_events`);
    expect(rows).to.deep.equal([{ name: 'export-csv', user_id: null, client_address: '198.51.100.77' }]);
  });
});
