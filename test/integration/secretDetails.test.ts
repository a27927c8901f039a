// Security finding 4: with the default configuration, a schema-valid
// CONFIG_CHANGE whose new value holds an Authorization header, a cookie, a
// private key, credentials, a session and a bare bearer token stores none of
// them: not in Postgres, not in the spool, not in the span event.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ChildApp } from '../support/childApp';
import { createTestSchema } from '../support/database';
import { OtlpReceiver } from '../support/otlpReceiver';
import { auditAppEnv, pollUntil, query, recordVia, startAuditApp, TempDirs, waitForTrailRows } from '../support/auditApp';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe('integration: credentials in audit details are redacted by default (finding 4)', function () {
  this.timeout(60000);
  const receiver = new OtlpReceiver();
  const temp = new TempDirs();
  let db: Awaited<ReturnType<typeof createTestSchema>>;
  const apps: ChildApp[] = [];

  before(async () => {
    await receiver.start();
    db = await createTestSchema('integ_secrets');
  });
  after(async () => {
    for (const app of apps) await app.stop();
    await receiver.stop();
    await db?.drop();
    temp.cleanup();
  });

  it('stores none of them in Postgres nor exports them in the span event', async () => {
    const app = await startAuditApp(auditAppEnv({ url: db.url, schema: db.schema, spoolDir: temp.make(), otlpUrl: receiver.url, serviceName: 'secret-details' }));
    apps.push(app);
    const id = await recordVia(app, 'POST', '/api/config/http-client');
    const [row] = await waitForTrailRows(db.url, db.schema, [id]);
    expect(row!.new_value).to.deep.equal({
      headers: { Authorization: 'REDACTED', Cookie: 'REDACTED' },
      privateKey: 'REDACTED', credentials: 'REDACTED', session: 'REDACTED', upstream: 'REDACTED',
    });
    const stored = await query(db.url, `SELECT l::text AS t FROM "${db.schema}".audit_log l`);
    expect(stored.map((r) => r.t).join('\n')).to.not.include('LEAK-');
    await receiver.waitFor('the audit span event', () => receiver.spans.some((s) => s.events.some((e) => e.name === 'audit')));
    expect(Buffer.concat(receiver.raw).toString('utf8')).to.not.include('LEAK-');
  });

  it('spools none of them while the database is unreachable', async () => {
    const spoolDir = temp.make();
    const app = await startAuditApp({
      ...auditAppEnv({ url: 'postgres://nobody@127.0.0.1:9/none', schema: db.schema, spoolDir, otlpUrl: receiver.url }),
      CVD_ACTIVITY_AUTO_MIGRATE: 'false',
    });
    apps.push(app);
    await recordVia(app, 'POST', '/api/config/http-client');
    const text = await pollUntil('the event in the spool', async () => {
      const all = filesUnder(spoolDir).map((f) => readFileSync(f, 'utf8')).join('\n');
      return all.includes('CONFIG_CHANGE') ? all : undefined;
    }, 20000);
    expect(text).to.not.include('LEAK-');
  });
});
