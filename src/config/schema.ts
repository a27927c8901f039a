/**
 * The one JSON Schema that the merged configuration must satisfy. Each
 * `description` says what is allowed; validation errors quote it.
 */

const str = (description: string, extra: object = {}) => ({ type: 'string', description, ...extra });
const int = (description: string, minimum: number, maximum?: number) => ({
  type: 'integer', description, minimum, ...(maximum === undefined ? {} : { maximum }),
});
const bool = (description: string) => ({ type: 'boolean', description });
const list = (description: string, item: object = { type: 'string', minLength: 1 }) => ({
  type: 'array', description, items: item,
});
const section = (properties: Record<string, object>) => ({
  type: 'object', additionalProperties: false, required: Object.keys(properties), properties,
});

const CIDR = '^[0-9a-fA-F:.]+(/[0-9]{1,3})?$';

/** JSON Schema of CvdActivityConfig (draft-07, ajv). */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    disabled: bool('true or false'),
    serviceName: str('a non-empty string', { minLength: 1 }),
    resourceAttributes: {
      type: 'object', description: 'an object of string values (key=value pairs)', additionalProperties: { type: 'string' },
    },
    logLevel: str('one of none, error, warn, info, debug, verbose, all', {
      enum: ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'],
    }),
    tracesExporter: str('one of otlp, console, none', { enum: ['otlp', 'console', 'none'] }),
    otlpTracesEndpoint: str('an http:// or https:// URL', { pattern: '^https?://[^\\s]+$' }),
    otlpProtocol: str('one of http/protobuf, http/json (grpc is not supported)', { enum: ['http/protobuf', 'http/json'] }),
    metricsExporter: str('one of otlp, none', { enum: ['otlp', 'none'] }),
    otlpMetricsEndpoint: str('an http:// or https:// URL', { pattern: '^https?://[^\\s]+$' }),
    metricsExportIntervalMs: int('an integer from 100 to 86400000 (ms)', 100, 86400000),
    trustProxy: {
      description: 'false, a hop count (integer 0-32), or a list of CIDRs / addresses such as ["10.0.0.0/8"]',
      anyOf: [
        { const: false },
        { type: 'integer', minimum: 0, maximum: 32 },
        { type: 'array', minItems: 1, items: { type: 'string', pattern: CIDR } },
      ],
    },
    proxyHeader: str('one of x-forwarded-for, forwarded', { enum: ['x-forwarded-for', 'forwarded'] }),
    noise: section({
      dropPaths: list('a list of paths starting with /', { type: 'string', pattern: '^/' }),
      dropPathPrefixes: list('a list of path prefixes starting with /', { type: 'string', pattern: '^/' }),
      dropExtensions: list('a list of file extensions starting with a dot, such as .css', { type: 'string', pattern: '^\\.[^/]+$' }),
      dropServiceWorker: bool('true or false'),
      sampledPaths: list('a list of paths starting with / (a trailing * makes a prefix)', { type: 'string', pattern: '^/' }),
      sampleRatio: { type: 'number', minimum: 0, maximum: 1, description: 'a number from 0 to 1' },
    }),
    redaction: section({
      queryParams: list('a list of non-empty parameter name fragments'),
      fields: list('a list of non-empty field name fragments'),
    }),
    audit: section({
      strict: bool('true or false'),
      maxFieldBytes: int('an integer from 256 to 1048576 (bytes)', 256, 1048576),
      maxEventBytes: int('an integer from 4096 to 67108864 (bytes)', 4096, 67108864),
      mirror: str('one of span-event, log, both, none', { enum: ['span-event', 'log', 'both', 'none'] }),
      loginFailedWindowMs: int('an integer from 1000 to 86400000 (ms)', 1000, 86400000),
      loginMaxAttempts: int('an integer from 1 to 1000', 1, 1000),
    }),
    database: section({
      url: { description: 'a postgres:// or postgresql:// URL, or null', anyOf: [{ type: 'null' }, { type: 'string', pattern: '^postgres(ql)?://' }] },
      schema: str('a SQL identifier: lower-case letters, digits and _, starting with a letter or _ (max 63)', {
        pattern: '^[a-z_][a-z0-9_]{0,62}$',
      }),
      autoMigrate: bool('true or false'),
      piiKey: { description: 'a string of at least 16 characters, or null', anyOf: [{ type: 'null' }, { type: 'string', minLength: 16 }] },
    }),
    pipeline: section({
      spoolDir: str('a non-empty directory path', { minLength: 1 }),
      spoolMaxBytes: int('an integer of at least 1048576 (bytes)', 1048576),
      spoolFsync: str('one of none, batch, always', { enum: ['none', 'batch', 'always'] }),
      batchSize: int('an integer from 1 to 10000', 1, 10000),
      batchDelayMs: int('an integer from 0 to 60000 (ms)', 0, 60000),
      retryMaxDelayMs: int('an integer from 100 to 3600000 (ms)', 100, 3600000),
    }),
    retention: section({
      archiveDir: { description: 'a non-empty directory path, or null', anyOf: [{ type: 'null' }, { type: 'string', minLength: 1 }] },
    }),
    shutdownTimeoutMs: int('an integer from 0 to 600000 (ms)', 0, 600000),
  },
  required: [
    'disabled', 'serviceName', 'resourceAttributes', 'logLevel', 'tracesExporter', 'otlpTracesEndpoint', 'otlpProtocol',
    'metricsExporter', 'otlpMetricsEndpoint', 'metricsExportIntervalMs', 'trustProxy', 'proxyHeader',
    'noise', 'redaction', 'audit', 'database', 'pipeline', 'retention', 'shutdownTimeoutMs',
  ],
} as const;
