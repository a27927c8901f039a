/**
 * Environment variables: one per option, plus the standard OTEL_* ones.
 * Values are parsed leniently into the option's type; a value that does not
 * parse is kept as the raw string so schema validation reports it, naming the
 * variable it came from.
 */

/** How a variable's text becomes an option value. */
type Parse = 'string' | 'number' | 'boolean' | 'list' | 'trustProxy' | 'nullableString';

/** One CVD_ACTIVITY_* variable and the option (dotted path) it sets. */
export interface EnvOption {
  env: string;
  path: string;
  parse: Parse;
}

/** Every CVD_ACTIVITY_* variable, in README order. */
export const ENV_OPTIONS: readonly EnvOption[] = [
  { env: 'CVD_ACTIVITY_TRUST_PROXY', path: 'trustProxy', parse: 'trustProxy' },
  { env: 'CVD_ACTIVITY_PROXY_HEADER', path: 'proxyHeader', parse: 'string' },
  { env: 'CVD_ACTIVITY_NOISE_DROP_PATHS', path: 'noise.dropPaths', parse: 'list' },
  { env: 'CVD_ACTIVITY_NOISE_DROP_PATH_PREFIXES', path: 'noise.dropPathPrefixes', parse: 'list' },
  { env: 'CVD_ACTIVITY_NOISE_DROP_EXTENSIONS', path: 'noise.dropExtensions', parse: 'list' },
  { env: 'CVD_ACTIVITY_NOISE_DROP_SERVICE_WORKER', path: 'noise.dropServiceWorker', parse: 'boolean' },
  { env: 'CVD_ACTIVITY_NOISE_SAMPLED_PATHS', path: 'noise.sampledPaths', parse: 'list' },
  { env: 'CVD_ACTIVITY_NOISE_SAMPLE_RATIO', path: 'noise.sampleRatio', parse: 'number' },
  { env: 'CVD_ACTIVITY_REDACT_QUERY_PARAMS', path: 'redaction.queryParams', parse: 'list' },
  { env: 'CVD_ACTIVITY_REDACT_FIELDS', path: 'redaction.fields', parse: 'list' },
  { env: 'CVD_ACTIVITY_STRICT', path: 'audit.strict', parse: 'boolean' },
  { env: 'CVD_ACTIVITY_MAX_FIELD_BYTES', path: 'audit.maxFieldBytes', parse: 'number' },
  { env: 'CVD_ACTIVITY_MAX_EVENT_BYTES', path: 'audit.maxEventBytes', parse: 'number' },
  { env: 'CVD_ACTIVITY_AUDIT_MIRROR', path: 'audit.mirror', parse: 'string' },
  { env: 'CVD_ACTIVITY_LOGIN_FAILED_WINDOW_MS', path: 'audit.loginFailedWindowMs', parse: 'number' },
  { env: 'CVD_ACTIVITY_LOGIN_MAX_ATTEMPTS', path: 'audit.loginMaxAttempts', parse: 'number' },
  { env: 'CVD_ACTIVITY_DATABASE_URL', path: 'database.url', parse: 'nullableString' },
  { env: 'CVD_ACTIVITY_SCHEMA', path: 'database.schema', parse: 'string' },
  { env: 'CVD_ACTIVITY_AUTO_MIGRATE', path: 'database.autoMigrate', parse: 'boolean' },
  { env: 'CVD_ACTIVITY_PII_KEY', path: 'database.piiKey', parse: 'nullableString' },
  { env: 'CVD_ACTIVITY_SPOOL_DIR', path: 'pipeline.spoolDir', parse: 'string' },
  { env: 'CVD_ACTIVITY_SPOOL_MAX_BYTES', path: 'pipeline.spoolMaxBytes', parse: 'number' },
  { env: 'CVD_ACTIVITY_SPOOL_FSYNC', path: 'pipeline.spoolFsync', parse: 'string' },
  { env: 'CVD_ACTIVITY_BATCH_SIZE', path: 'pipeline.batchSize', parse: 'number' },
  { env: 'CVD_ACTIVITY_BATCH_DELAY_MS', path: 'pipeline.batchDelayMs', parse: 'number' },
  { env: 'CVD_ACTIVITY_RETRY_MAX_DELAY_MS', path: 'pipeline.retryMaxDelayMs', parse: 'number' },
  { env: 'CVD_ACTIVITY_ARCHIVE_DIR', path: 'retention.archiveDir', parse: 'nullableString' },
  { env: 'CVD_ACTIVITY_SHUTDOWN_TIMEOUT_MS', path: 'shutdownTimeoutMs', parse: 'number' },
];

/** A value read from the environment and where it came from. */
export interface EnvValue {
  path: string[];
  source: string;
  value: unknown;
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

function parseValue(raw: string, parse: Parse): unknown {
  const text = raw.trim();
  switch (parse) {
    case 'string':
      return text;
    case 'nullableString':
      return text === '' ? null : text;
    case 'number':
      return text !== '' && Number.isFinite(Number(text)) ? Number(text) : raw;
    case 'boolean': {
      const lower = text.toLowerCase();
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : raw;
    }
    case 'list':
      return text === '' ? [] : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    case 'trustProxy': {
      const lower = text.toLowerCase();
      if (lower === '' || FALSE.has(lower)) return false;
      if (/^\d+$/.test(text)) return Number(text);
      return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
    }
  }
}

/** OTEL_RESOURCE_ATTRIBUTES: `k=v,k2=v2`, percent-decoded. A malformed pair is returned as text for the schema to reject. */
function parseResourceAttributes(raw: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of raw.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (key === '') {
      out[pair.trim()] = { malformed: `${pair.trim()} (expected key=value)` };
      continue;
    }
    try {
      out[decodeURIComponent(key)] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      out[key] = { malformed: `${pair.trim()} (bad percent-encoding)` };
    }
  }
  return out;
}

/** A signal's endpoint: its own variable as is, else the generic one + `/v1/<signal>` (as the OTLP spec says). */
function otlpEndpoint(env: NodeJS.ProcessEnv, signal: 'traces' | 'metrics'): EnvValue | null {
  const option = signal === 'traces' ? 'otlpTracesEndpoint' : 'otlpMetricsEndpoint';
  const variable = `OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`;
  const own = env[variable]?.trim();
  if (own) return { path: [option], source: variable, value: own };
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (base) return { path: [option], source: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: `${base.replace(/\/+$/, '')}/v1/${signal}` };
  return null;
}

/** The CVD_ACTIVITY_* values present in `env`. */
export function readCvdEnv(env: NodeJS.ProcessEnv): EnvValue[] {
  const out: EnvValue[] = [];
  for (const option of ENV_OPTIONS) {
    const raw = env[option.env];
    if (raw !== undefined) out.push({ path: option.path.split('.'), source: option.env, value: parseValue(raw, option.parse) });
  }
  // DATABASE_URL is the common convention; CVD_ACTIVITY_DATABASE_URL wins over it. A
  // non-Postgres DATABASE_URL belongs to the app alone and must not break our config.
  if (env.CVD_ACTIVITY_DATABASE_URL === undefined && /^postgres(ql)?:\/\//.test(env.DATABASE_URL ?? '')) {
    out.push({ path: ['database', 'url'], source: 'DATABASE_URL', value: (env.DATABASE_URL as string).trim() });
  }
  return out;
}

/** The standard OTEL_* values present in `env`. */
export function readOtelEnv(env: NodeJS.ProcessEnv): EnvValue[] {
  const out: EnvValue[] = [];
  if (env.OTEL_SDK_DISABLED !== undefined) {
    out.push({ path: ['disabled'], source: 'OTEL_SDK_DISABLED', value: parseValue(env.OTEL_SDK_DISABLED, 'boolean') });
  }
  if (env.OTEL_SERVICE_NAME) out.push({ path: ['serviceName'], source: 'OTEL_SERVICE_NAME', value: env.OTEL_SERVICE_NAME.trim() });
  if (env.OTEL_LOG_LEVEL) out.push({ path: ['logLevel'], source: 'OTEL_LOG_LEVEL', value: env.OTEL_LOG_LEVEL.trim().toLowerCase() });
  if (env.OTEL_TRACES_EXPORTER) {
    out.push({ path: ['tracesExporter'], source: 'OTEL_TRACES_EXPORTER', value: env.OTEL_TRACES_EXPORTER.trim().toLowerCase() });
  }
  const protocol = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim()
    ? { source: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', value: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL.trim().toLowerCase() }
    : env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim()
      ? { source: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: env.OTEL_EXPORTER_OTLP_PROTOCOL.trim().toLowerCase() }
      : null;
  if (protocol) out.push({ path: ['otlpProtocol'], ...protocol });
  for (const signal of ['traces', 'metrics'] as const) {
    const endpoint = otlpEndpoint(env, signal);
    if (endpoint) out.push(endpoint);
  }
  if (env.OTEL_METRICS_EXPORTER) {
    out.push({ path: ['metricsExporter'], source: 'OTEL_METRICS_EXPORTER', value: env.OTEL_METRICS_EXPORTER.trim().toLowerCase() });
  }
  if (env.OTEL_METRIC_EXPORT_INTERVAL) {
    out.push({ path: ['metricsExportIntervalMs'], source: 'OTEL_METRIC_EXPORT_INTERVAL', value: parseValue(env.OTEL_METRIC_EXPORT_INTERVAL, 'number') });
  }
  if (env.OTEL_RESOURCE_ATTRIBUTES) {
    const attrs = parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES);
    for (const [key, value] of Object.entries(attrs)) {
      out.push({ path: ['resourceAttributes', key], source: 'OTEL_RESOURCE_ATTRIBUTES', value });
    }
  }
  return out;
}
