// One phase of cvd-activity's start-up, timed in a fresh process (argv[2]
// names it), printed as `PHASE <ms>`. Run by bench/startup/run.mjs.
const { performance } = require('node:perf_hooks');
const { join } = require('node:path');

const dist = join(__dirname, '..', '..', 'dist');
const time = (fn) => {
  const t = performance.now();
  const result = fn();
  return Promise.resolve(result).then(() => performance.now() - t);
};

const phases = {
  // require() of the public API: every module start() needs (the SDK, instrumentation-http, ajv, pg, ...).
  'module loading': () => time(() => require(join(dist, 'index.js'))),
  // What start() compiled before validators became lazy: every catalog schema (now paid per action, on first use).
  'schema compilation (all catalog schemas)': () => {
    const { ActionRegistry } = require(join(dist, 'audit', 'ActionRegistry.js'));
    const registry = new ActionRegistry();
    return time(() => registry.list().forEach((action) => action.validate));
  },
  // start() itself once the modules are loaded: config, SDK, processors, pipeline, spool.
  'SDK start (start() after loading)': () => {
    const api = require(join(dist, 'index.js'));
    return time(() => api.start({ metricsExporter: 'none' })).then((ms) => {
      setImmediate(() => process.exit(0));
      return ms;
    });
  },
  // autoMigrate's check against an up-to-date schema (runs before the first batch, not before the first request).
  'migration check (autoMigrate, schema current)': async () => {
    const pg = require('pg');
    const { migrate } = require(join(dist, 'store', 'migrate.js'));
    const client = new pg.Client({ connectionString: process.env.BENCH_DATABASE_URL });
    await client.connect();
    await migrate(client, { schema: process.env.BENCH_SCHEMA, roles: false });
    const ms = await time(() => migrate(client, { schema: process.env.BENCH_SCHEMA, roles: false }));
    await client.end();
    return ms;
  },
  // Parts of the module loading, each alone in a fresh process (they share dependencies, so they overlap).
  'of which: @opentelemetry/sdk-node': () => time(() => require('@opentelemetry/sdk-node')),
  'of which: the four OTLP exporters start.ts loads': () => time(() => [
    '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/exporter-trace-otlp-http',
    '@opentelemetry/exporter-metrics-otlp-proto', '@opentelemetry/exporter-metrics-otlp-http',
  ].forEach((name) => require(name))),
  // For comparison: loading auto-instrumentations-node (all its instrumentations).
  'auto-instrumentations-node module loading': () => time(() => require('@opentelemetry/auto-instrumentations-node')),
};

phases[process.argv[2]]().then((ms) => {
  console.log(`PHASE ${ms.toFixed(1)}`);
  process.exit(0);
});
