// The "User experience" dashboard's queries on a known day of browser events:
// each panel gives the answer worked out by hand (rates, shares, p75s), so a
// wrong filter, join or denominator fails here, not in front of a user.
import { expect } from 'chai';
import { createAuditSchema, type AuditSchema } from '../support/auditStore';
import { representativeBrowserEvents, seedBrowserEvents } from '../support/browserRows';
import { expandGrafanaSql } from '../support/grafanaMacros';
import { dashboards, queries } from './grafanaFiles';

describe('dashboards: User experience answers', function () {
  this.timeout(60_000);
  let db: AuditSchema;
  const now = new Date(Math.floor(Date.now() / 1000) * 1000);
  const range = { from: new Date(now.getTime() - 6 * 3600_000), to: now, interval: '1m' };
  const panels = queries('user-experience.json', dashboards().get('user-experience.json')!);

  async function run(title: string): Promise<Array<Record<string, unknown>>> {
    const q = panels.find((p) => p.panel === title);
    if (!q) throw new Error(`no panel "${title}"`);
    const reader = await db.pool.connect();
    try {
      await reader.query('SET ROLE cvd_activity_reader');
      const { rows } = await reader.query(expandGrafanaSql(q.target.rawSql, { ...range, schema: db.schema }));
      return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v])));
    } finally {
      await reader.query('RESET ROLE');
      reader.release();
    }
  }

  before(async () => {
    db = await createAuditSchema('ux');
    await seedBrowserEvents(db.url, db.schema, representativeBrowserEvents(now));
  });
  after(async () => db?.drop());

  it('web vitals p75 per page, slowest page first', async () => {
    const rows = await run('Web vitals p75 per page');
    expect(rows.map((r) => [r.page, r.lcp_ms, r.cls, r.ttfb_ms, r.first_interaction_ms])).to.deep.equal([
      ['/app/prices', 3200, null, null, null],
      ['/app/devices', 900, 0.02, 120, 1500],
    ]);
    expect((await run('Slowest pages (LCP p75)')).map((r) => r.page)).to.deep.equal(['/app/prices', '/app/devices']);
  });

  it('feature adoption counts distinct users per feature per week', async () => {
    const rows = await run('Feature adoption (distinct users per feature per week)');
    expect(rows.map((r) => [r.feature, r.users, r.uses])).to.deep.equal([['export-csv', 2, 2]]);
  });

  it('form completion rate and the top abandoning field', async () => {
    expect((await run('Form completion rate')).map((r) => [r.form, r.started, r.submitted, r.abandoned, r.validation_errors, r.completion_rate]))
      .to.deep.equal([['price-change', 2, 1, 1, 1, 0.5]]);
    expect((await run('Top abandoning fields')).map((r) => [r.form, r.field, r.abandons, r.validation_errors]))
      .to.deep.equal([['price-change', 'priceCents', 1, 1]]);
  });

  it('search effectiveness: zero-result share and click-through', async () => {
    expect((await run('Search effectiveness')).map((r) => [r.search_box, r.searches, r.zero_result_share, r.click_through_rate, r.refine_rate]))
      .to.deep.equal([['devices', 2, 0.5, 0.5, 0.5]]);
  });

  it('error recovery rate over sessions with errors, and the errors with their trace', async () => {
    expect(await run('Error recovery rate')).to.deep.equal([{ recovery_rate: 0.5 }]);
    const errors = await run('Errors users met');
    expect(errors.map((r) => [r.page, r.kind, r.users])).to.have.deep.members([['/app/devices', 'error', 1], ['/app/prices', 'fetch', 1]]);
    expect(errors.every((r) => r.trace_id === '0123456789abcdef0123456789abcdef')).to.equal(true);
  });

  it('browser, OS and device shares, page views per day, scroll depth', async () => {
    expect((await run('Browser share')).map((r) => [r.browser, r.users])).to.have.deep.members([['Chrome 156', 1], ['Safari 18', 1]]);
    expect((await run('OS share')).map((r) => r.os)).to.have.members(['Linux', 'iOS']);
    expect((await run('Device class share')).map((r) => r.device)).to.have.members(['desktop', 'mobile']);
    const perDay = await run('Page views and users per day');
    expect(perDay.filter((r) => r.metric === 'page views').reduce((n, r) => n + Number(r.value), 0)).to.equal(2);
    expect((await run('Scroll depth per page')).map((r) => [r.page, r.page_views, r.reached_half, r.reached_end])).to.have.deep.members([
      ['/app/devices', 1, 1, 1], ['/app/prices', 1, 0, 0],
    ]);
  });
});
