/**
 * The exporting half of start(): the OTLP (or console) span exporter behind
 * its batch processor, with the synchronous sender used at exit, and the
 * activity counters' own metrics pipeline. Every exporter import lives here.
 */
import { getNumberFromEnv } from '@opentelemetry/core';
import { OTLPMetricExporter as OTLPJsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as OTLPProtobufMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as OTLPJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, ConsoleSpanExporter } from '@opentelemetry/sdk-trace';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { CvdActivityConfig } from './config/types';
import { observeActivityCounters } from './instrumentation/activityMetrics';
import { ExitSpanExporter, otlpSyncSender } from './instrumentation/ExitSpanExporter';
import { CountingSpanExporter } from './instrumentation/stats';
import type { LifecycleParticipant } from './startParts';

/** The exporting processor, and its exporter's handle for sending what is left synchronously at exit. */
export interface ExportParts {
  processor: SpanProcessor;
  exit: ExitSpanExporter;
}

export function exportParts(config: CvdActivityConfig): ExportParts | null {
  if (config.tracesExporter === 'none') return null;
  const exporter = config.tracesExporter === 'console'
    ? new ConsoleSpanExporter()
    : config.otlpProtocol === 'http/json'
      ? new OTLPJsonTraceExporter({ url: config.otlpTracesEndpoint })
      // Protobuf (the OTLP default) encodes straight into a buffer: much less
      // CPU and garbage per span than the JSON of exporter-trace-otlp-http.
      : new OTLPProtobufTraceExporter({ url: config.otlpTracesEndpoint });
  // The console exporter writes synchronously already.
  const sendSync = config.tracesExporter === 'console'
    ? (spans: ReadableSpan[]) => (exporter.export(spans, () => undefined), true)
    : otlpSyncSender({ url: config.otlpTracesEndpoint, protocol: config.otlpProtocol });
  const exit = new ExitSpanExporter(exporter, sendSync);
  return { processor: new BatchSpanProcessor({ exporter: new CountingSpanExporter(exit), ...batchOptionsFromEnv() }), exit };
}

/**
 * OTEL_BSP_* (documented as still applying): the 3.x BatchSpanProcessor no
 * longer reads them itself, only sdk-node's env-built processor does, and we
 * build ours. Unset or invalid values leave the processor's defaults.
 */
function batchOptionsFromEnv(): { maxQueueSize?: number; maxExportBatchSize?: number; scheduledDelayMillis?: number; exportTimeoutMillis?: number } {
  const read = (name: string): number | undefined => {
    const value = getNumberFromEnv(name);
    return value !== undefined && value >= 0 ? value : undefined;
  };
  return {
    maxQueueSize: read('OTEL_BSP_MAX_QUEUE_SIZE'),
    maxExportBatchSize: read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'),
    scheduledDelayMillis: read('OTEL_BSP_SCHEDULE_DELAY'),
    exportTimeoutMillis: read('OTEL_BSP_EXPORT_TIMEOUT'),
  };
}

/**
 * The activity counters as OTLP metrics, on a MeterProvider of our own that is
 * deliberately NOT registered globally: instrumentation-http then keeps the
 * no-op meter and records no per-request duration histogram (its cost would
 * land on every request; span metrics in the Collector give latencies anyway).
 */
export function activityMetricsParticipant(config: CvdActivityConfig, resource: Resource): LifecycleParticipant | null {
  if (config.metricsExporter === 'none') return null;
  const exporter = config.otlpProtocol === 'http/json'
    ? new OTLPJsonMetricExporter({ url: config.otlpMetricsEndpoint })
    : new OTLPProtobufMetricExporter({ url: config.otlpMetricsEndpoint });
  const interval = config.metricsExportIntervalMs;
  const provider = new MeterProvider({
    resource,
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: interval, exportTimeoutMillis: Math.min(interval, 30000) })],
  });
  observeActivityCounters(provider.getMeter('cvd-activity'));
  return { name: 'activity metrics', forceFlush: () => provider.forceFlush(), shutdown: () => provider.shutdown() };
}
