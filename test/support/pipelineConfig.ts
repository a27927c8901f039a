/** A complete CvdActivityConfig for pipeline tests (config/ owns the real defaults). */
import type { CvdActivityConfig, PipelineConfig } from '../../src/config/types';

/** Config with the given pipeline settings and database URL. */
export function pipelineTestConfig(pipeline: Partial<PipelineConfig> & { spoolDir: string }, url: string | null = null): CvdActivityConfig {
  return {
    disabled: false,
    serviceName: 'pipeline-test',
    resourceAttributes: {},
    logLevel: 'error',
    tracesExporter: 'none',
    otlpTracesEndpoint: 'http://127.0.0.1:4318/v1/traces',
    otlpProtocol: 'http/protobuf',
    metricsExporter: 'none',
    otlpMetricsEndpoint: 'http://127.0.0.1:4318/v1/metrics',
    metricsExportIntervalMs: 60_000,
    trustProxy: false,
    proxyHeader: 'x-forwarded-for',
    noise: { dropPaths: [], dropPathPrefixes: [], dropExtensions: [], dropServiceWorker: false, sampledPaths: [], sampleRatio: 1 },
    redaction: { queryParams: [], fields: [] },
    audit: { strict: false, maxFieldBytes: 8192, maxEventBytes: 1 << 20, mirror: 'none', loginFailedWindowMs: 900_000, loginMaxAttempts: 5 },
    database: { url, schema: 'cvd_activity', autoMigrate: true, piiKey: null },
    pipeline: {
      spoolMaxBytes: 256 << 20,
      spoolFsync: 'none',
      batchSize: 200,
      batchDelayMs: 20,
      retryMaxDelayMs: 500,
      ...pipeline,
    },
    retention: { archiveDir: null },
    shutdownTimeoutMs: 5_000,
  };
}
