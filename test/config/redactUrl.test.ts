/**
 * Security finding 7: no secret value is printed. A bad database URL (app and
 * CLI), a too-short PII key, the demo's errors and its JSON summary, and an
 * OTLP endpoint with credentials: output captured from real child processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { redactUrl } from '../../src/config/redactUrl';
import { startChildApp } from '../support/childApp';
import { runCliProcess } from '../support/cli';
import { createTestSchema } from '../support/database';
import { pollUntil } from '../support/poll';

const SECRETS = /HUNTER2|QSECRET|SHORTKEYSECRET|OTLPSECRET/;

describe('config: secrets are never printed (finding 7)', function () {
  this.timeout(120_000);

  it('redactUrl masks passwords and secret query values, keeps the rest', () => {
    expect(redactUrl('postgres://app:HUNTER2@db:5432/audit?sslmode=require&password=QSECRET'))
      .to.equal('postgres://app:***@db:5432/audit?sslmode=require&password=***');
    expect(redactUrl('"http://u:p@h/v1/traces?api_key=k&x=1"')).to.equal('"http://u:***@h/v1/traces?api_key=***&x=1"');
    expect(redactUrl('postgres://db/audit')).to.equal('postgres://db/audit');
  });

  it('the CLI prints neither a bad database URL\'s password nor a short PII key', async () => {
    const url = await runCliProcess(['audit', 'query'], { CVD_ACTIVITY_DATABASE_URL: 'mysql://app:HUNTER2@db/x?password=QSECRET' });
    expect(url.code).to.not.equal(0);
    expect(url.stderr).to.include('mysql://app:***@db/x?password=***"').and.not.match(SECRETS);
    const key = await runCliProcess(['audit', 'verify'], { CVD_ACTIVITY_PII_KEY: 'SHORTKEYSECRET' });
    expect(key.stderr).to.include('a value of 14 characters (not shown)').and.not.match(SECRETS);
  });

  it('an instrumented app prints no password of a bad database URL', async () => {
    const app = await startChildApp('cjs-app.js', 'require', { CVD_ACTIVITY_DATABASE_URL: 'mysql://app:HUNTER2@db/x?password=QSECRET', OTEL_TRACES_EXPORTER: 'none' });
    try {
      await pollUntil('the configuration error', async () => (app.stderr().includes('invalid configuration') ? true : undefined), 10_000);
      expect(app.stderr()).to.include('mysql://app:***@db').and.not.match(SECRETS);
    } finally {
      await app.stop();
    }
  });

  it('the demo prints no database password or OTLP credentials, in errors or in its JSON summary', async () => {
    const down = await runCliProcess(['demo', '--duration', '1', '--database-url', 'postgres://app:HUNTER2@127.0.0.1:9/x?password=QSECRET']);
    expect(down.code).to.equal(3);
    expect(down.stdout + down.stderr).to.include('postgres://app:***@127.0.0.1:9/x?password=***').and.not.match(SECRETS);
    const db = await createTestSchema('demo_secrets');
    const cwd = mkdtempSync(join(tmpdir(), 'cvd-demo-secrets-'));
    try {
      const run = await runCliProcess(['demo', '--duration', '2', '--json', '--schema', db.schema, '--database-url', `${db.url}?password=QSECRET`],
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:OTLPSECRET@127.0.0.1:9?token=OTLPSECRET' }, { cwd });
      expect(run.code, run.stderr).to.equal(0);
      const summary = JSON.parse(run.stdout) as { traces: { endpoint: string }; database: { url: string } };
      expect(summary.traces.endpoint).to.equal('http://otel:***@127.0.0.1:9?token=***');
      expect(summary.database.url).to.match(/\?password=\*\*\*$/);
      expect(run.stdout + run.stderr).to.not.match(SECRETS);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
      await db.drop();
    }
  });
});
