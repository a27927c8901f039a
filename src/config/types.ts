/**
 * The typed, validated configuration of cvd-activity. `config/` is the only
 * room that reads environment variables and config files; every other room
 * receives a `CvdActivityConfig` (or a part of it) from the composition root.
 */

/** The header trusted proxies write; only this one is read. */
export type ProxyHeader = 'x-forwarded-for' | 'forwarded';
/** Which hops of the proxy header (`proxyHeader`) to believe: none, the last N, or peers inside these CIDRs. */
export type TrustProxy = false | number | string[];

/** OpenTelemetry diag levels, as OTEL_LOG_LEVEL spells them (lower-cased). */
export type LogLevel = 'none' | 'error' | 'warn' | 'info' | 'debug' | 'verbose' | 'all';

/** Requests that are not worth a span, or only a sampled share of spans. */
export interface NoiseConfig {
  /** Exact paths that get no span at all (health, readiness, liveness, /metrics). */
  dropPaths: string[];
  /** Path prefixes that get no span at all (static assets). */
  dropPathPrefixes: string[];
  /** File extensions (with the dot) that get no span at all. */
  dropExtensions: string[];
  /** Drop requests sent by a service worker (`Service-Worker` header). */
  dropServiceWorker: boolean;
  /** Paths (exact, or a prefix when ending in `*`) whose spans are sampled at `sampleRatio`. */
  sampledPaths: string[];
  /** Share of `sampledPaths` requests that are recorded, decided at span start. */
  sampleRatio: number;
}

/** What is masked before anything leaves the process. */
export interface RedactionConfig {
  /** Query parameter names (case-insensitive substrings) whose values become REDACTED. */
  queryParams: string[];
  /** Audit detail / old / new value field names (case-insensitive substrings) that become REDACTED. */
  fields: string[];
}

/** How `audit.record()` validates and mirrors events. */
export interface AuditConfig {
  /** Throw AuditValidationError on unknown actions or invalid details instead of keeping them marked invalid. */
  strict: boolean;
  /** Serialized size above which a field is truncated (bytes). */
  maxFieldBytes: number;
  /** Largest serialized event (details, old and new value, personal fields; bytes): strict mode refuses a larger one, lenient mode keeps it without them. */
  maxEventBytes: number;
  /** Where the trace mirror of an audit event goes. */
  mirror: 'span-event' | 'log' | 'both' | 'none';
  /** Sliding window for counting failed logins (ms). */
  loginFailedWindowMs: number;
  /** Attempts allowed within the window before accounts lock; reported as `max_attempts`. */
  loginMaxAttempts: number;
}

/** Where and how the audit trail is stored. */
export interface DatabaseConfig {
  /** postgres:// URL; when absent, the standard PG* variables apply (see config/database.ts). */
  url: string | null;
  /** Schema that holds the audit tables. */
  schema: string;
  /** Run migrations at start-up. */
  autoMigrate: boolean;
  /** Key for the HMAC of personal data in the hash chain (hex or text); generated into the state dir when absent. */
  piiKey: string | null;
}

/** The write-ahead spool and the batches it feeds. */
export interface PipelineConfig {
  /** Folder of spool segments; shared by all processes of the app on this host. */
  spoolDir: string;
  /** Disk the spool may use before `record()` refuses events with a loud diag error (bytes). */
  spoolMaxBytes: number;
  /** `none`: survives process crashes; `batch`: fsync before each batch is sent; `always`: fsync every event (survives power loss). */
  spoolFsync: 'none' | 'batch' | 'always';
  /** Events per database transaction. */
  batchSize: number;
  /** Longest an event waits before its batch is sent (ms). */
  batchDelayMs: number;
  /** Cap of the retry backoff while Postgres is unreachable (ms). */
  retryMaxDelayMs: number;
}

/** `cvd-activity retention apply` (docs/data-lifecycle.md). */
export interface RetentionConfig {
  /** Where months past 90 days are archived; null: nothing is archived. */
  archiveDir: string | null;
}

/** The whole configuration, after env, file and code options are merged and validated. */
export interface CvdActivityConfig {
  /** OTEL_SDK_DISABLED: nothing is started. */
  disabled: boolean;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  logLevel: LogLevel;
  tracesExporter: 'otlp' | 'console' | 'none';
  /** Full URL of the OTLP/HTTP traces endpoint. */
  otlpTracesEndpoint: string;
  /** OTLP/HTTP encoding: protobuf (the OTLP default, cheaper to encode) or JSON. */
  otlpProtocol: 'http/protobuf' | 'http/json';
  /** OTLP metrics of the activity counters (requests kept / dropped / sampled out); defaults to otlp only when traces are otlp. */
  metricsExporter: 'otlp' | 'none';
  /** Full URL of the OTLP/HTTP metrics endpoint. */
  otlpMetricsEndpoint: string;
  /** How often the activity counters are exported (ms). */
  metricsExportIntervalMs: number;
  trustProxy: TrustProxy;
  /** The one header the trusted proxies write the client address into; no other is read. */
  proxyHeader: ProxyHeader;
  noise: NoiseConfig;
  redaction: RedactionConfig;
  audit: AuditConfig;
  database: DatabaseConfig;
  pipeline: PipelineConfig;
  retention: RetentionConfig;
  /** Longest the flush on SIGTERM / SIGINT / beforeExit may take (ms). */
  shutdownTimeoutMs: number;
}

/**
 * What a user may pass to `start()` or put in the JSON config file: any subset,
 * of the sections too (`{ noise: { sampleRatio: 0.05 } }`). Sections are
 * interfaces, which do not extend Record<string, unknown>, so the test is `object`.
 */
export type CvdActivityOptions = {
  [K in keyof CvdActivityConfig]?: CvdActivityConfig[K] extends readonly unknown[]
    ? CvdActivityConfig[K]
    : CvdActivityConfig[K] extends object
      ? Partial<CvdActivityConfig[K]>
      : CvdActivityConfig[K];
};
