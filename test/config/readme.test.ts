// The configuration table (docs/configuration.md) is the user's only reference:
// it must name every option and every variable the code reads.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENV_OPTIONS } from '../../src/config/env';
import { configSchema } from '../../src/config/schema';

describe('config: the table in docs/configuration.md', () => {
  const section = readFileSync(join(__dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');

  it('documents every CVD_ACTIVITY_* variable and standard variable', () => {
    const vars = [...ENV_OPTIONS.map((o) => o.env), 'CVD_ACTIVITY_CONFIG', 'OTEL_SDK_DISABLED', 'OTEL_SERVICE_NAME', 'OTEL_RESOURCE_ATTRIBUTES',
      'OTEL_LOG_LEVEL', 'OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL', 'DATABASE_URL',
      'OTEL_METRICS_EXPORTER', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'OTEL_METRIC_EXPORT_INTERVAL'];
    for (const v of vars) expect(section, v).to.include(`\`${v}\``);
  });

  it('documents every option key', () => {
    const props = configSchema.properties as Record<string, { properties?: Record<string, unknown> }>;
    for (const [key, schema] of Object.entries(props)) {
      const subKeys = key === 'resourceAttributes' ? [] : Object.keys(schema.properties ?? {});
      if (subKeys.length === 0) expect(section, key).to.include(`| \`${key}\``);
      for (const sub of subKeys) expect(section, `${key}.${sub}`).to.include(`| \`${key}.${sub}\``);
    }
  });
});
