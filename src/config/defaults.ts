/**
 * The defaults of every option. Lists come from the security review's
 * "consider removing" list (noise) and its redaction findings.
 */
import type { CvdActivityConfig } from './types';

const HEALTH_PATHS = ['/health', '/healthz', '/ready', '/readyz', '/live', '/livez', '/metrics', '/ping'];

/** Health, readiness, liveness and metrics endpoints, also under /api/. */
export const DEFAULT_DROP_PATHS: readonly string[] = [...HEALTH_PATHS, ...HEALTH_PATHS.map((p) => `/api${p}`), '/favicon.ico'];

/** Folders that hold static assets. */
export const DEFAULT_DROP_PATH_PREFIXES: readonly string[] = ['/static/', '/assets/', '/public/', '/_next/static/', '/build/', '/dist/'];

/** Static file extensions (lower case, with the dot). */
export const DEFAULT_DROP_EXTENSIONS: readonly string[] = [
  '.js', '.mjs', '.css', '.map', '.png', '.jpg', '.jpeg', '.gif', '.svg', '.ico', '.webp', '.avif',
  '.woff', '.woff2', '.ttf', '.otf', '.eot', '.webmanifest',
];

/** Query parameter name fragments whose values are never exported. */
export const DEFAULT_REDACTED_QUERY_PARAMS: readonly string[] = [
  'password', 'passwd', 'token', 'secret', 'key', 'signature', 'session', 'auth', 'code', 'credential',
];

/** Audit detail field name fragments whose values are never stored in clear. */
export const DEFAULT_REDACTED_FIELDS: readonly string[] = [
  'password', 'passwd', 'secret', 'token', 'card_number', 'cardnumber', 'cvv', 'api_key', 'apikey',
  'authorization', 'cookie', 'credential', 'private_key', 'session',
];

/** A complete, valid configuration with every default; `env` only decides `audit.strict` (NODE_ENV=test). */
export function defaultConfig(env: NodeJS.ProcessEnv = process.env): CvdActivityConfig {
  return {
    disabled: false,
    serviceName: 'unknown_service:node',
    resourceAttributes: {},
    logLevel: 'info',
    tracesExporter: 'otlp',
    otlpTracesEndpoint: 'http://localhost:4318/v1/traces',
    otlpProtocol: 'http/protobuf',
    metricsExporter: 'otlp',
    otlpMetricsEndpoint: 'http://localhost:4318/v1/metrics',
    metricsExportIntervalMs: 60000,
    trustProxy: false,
    proxyHeader: 'x-forwarded-for',
    noise: {
      dropPaths: [...DEFAULT_DROP_PATHS],
      dropPathPrefixes: [...DEFAULT_DROP_PATH_PREFIXES],
      dropExtensions: [...DEFAULT_DROP_EXTENSIONS],
      dropServiceWorker: true,
      sampledPaths: ['/api/admin/activity/alerts'],
      sampleRatio: 0.1,
    },
    redaction: {
      queryParams: [...DEFAULT_REDACTED_QUERY_PARAMS],
      fields: [...DEFAULT_REDACTED_FIELDS],
    },
    audit: {
      strict: env.NODE_ENV === 'test',
      maxFieldBytes: 16384,
      maxEventBytes: 1048576,
      mirror: 'span-event',
      loginFailedWindowMs: 5 * 60 * 1000,
      loginMaxAttempts: 5,
    },
    database: { url: null, schema: 'cvd_activity', autoMigrate: false, piiKey: null },
    pipeline: {
      spoolDir: '.cvd-activity/spool',
      spoolMaxBytes: 1024 * 1024 * 1024,
      spoolFsync: 'none',
      batchSize: 4000,
      batchDelayMs: 200,
      retryMaxDelayMs: 30000,
    },
    retention: { archiveDir: null },
    shutdownTimeoutMs: 5000,
  };
}
