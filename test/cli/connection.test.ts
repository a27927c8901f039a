import { expect } from 'chai';
import { resolveConnection } from '../../src/cli/connection';
import type { DemoDatabaseInfo } from '../../src/demo/database';

const demo: DemoDatabaseInfo = { url: 'postgres://postgres:pw@127.0.0.1:54329/cvd_demo', port: 54329, dataDir: '/x/.cvd-activity/demo-pg', schema: 'demo_s', updatedAt: '' };

describe('CLI connection resolution', () => {
  it('takes --database-url over config/s variables, and CVD_ACTIVITY_DATABASE_URL over DATABASE_URL', () => {
    const env = { CVD_ACTIVITY_DATABASE_URL: 'postgres://a@h1:5433/one', DATABASE_URL: 'postgres://b@h2/two' };
    expect(resolveConnection({ databaseUrl: 'postgres://c@h3/three' }, { env })).to.include({ target: 'h3:5432/three', source: '--database-url' });
    expect(resolveConnection({}, { env })).to.include({ target: 'h1:5433/one', source: 'CVD_ACTIVITY_DATABASE_URL' });
    expect(resolveConnection({}, { env: { DATABASE_URL: 'postgres://b@h2/two' } })).to.include({ source: 'DATABASE_URL' });
  });

  it('falls back to the demo database (its schema, started before connecting) only when nothing is configured', async () => {
    let started = 0;
    const sources = { demoInfo: () => demo, startDemo: async () => void started++ };
    const conn = resolveConnection({}, { env: {}, ...sources });
    expect(conn).to.include({ source: 'demo', schema: 'demo_s', target: '127.0.0.1:54329/cvd_demo' });
    await conn.prepare!();
    expect(started).to.equal(1);
    expect(resolveConnection({ schema: 'mine' }, { env: {}, ...sources }).schema).to.equal('mine');
    expect(resolveConnection({}, { env: {}, configuredSchema: () => 'configured', ...sources }).schema).to.equal('configured');
    expect(resolveConnection({}, { env: { PGHOST: 'db.internal' }, ...sources }).source).to.equal('PG*');
    expect(resolveConnection({}, { env: { DATABASE_URL: 'postgres://x@y/z' }, ...sources }).source).to.equal('DATABASE_URL');
    expect(resolveConnection({}, { env: {}, demoInfo: () => null }).source).to.equal('default');
  });

  it('rejects a URL that is not postgres:// with a usage error naming where it came from', () => {
    expect(() => resolveConnection({}, { env: { CVD_ACTIVITY_DATABASE_URL: 'mysql://u@h/db' } })).to.throw(/database URL from CVD_ACTIVITY_DATABASE_URL: "mysql:" is not valid; use a postgres:\/\/ or postgresql:\/\/ URL/);
    // Another kind of DATABASE_URL is the app's own business, as for config/: not ours to use nor to refuse.
    expect(resolveConnection({}, { env: { DATABASE_URL: 'mysql://u@h/db' } }).source).to.equal('default');
    expect(() => resolveConnection({ databaseUrl: 'not a url' }, { env: {} })).to.throw(/--database-url: not a valid postgres:\/\/ URL/);
  });
});
