/**
 * The OTLP/HTTP protobuf span exporter of OpenTelemetry JS (same transport,
 * retries, timeouts, headers and OTEL_EXPORTER_OTLP_* variables) with our
 * one-pass serializer (spanSerializer.ts), which writes the same bytes for
 * about half the CPU per span.
 */
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { serializeSpans } from './spanSerializer';

const serializer: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: (spans) => serializeSpans(spans),
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};

/** OTLP/HTTP protobuf span exporter; `config` as for @opentelemetry/exporter-trace-otlp-proto's OTLPTraceExporter. */
export function createOtlpProtobufSpanExporter(config: OTLPExporterNodeConfigBase = {}): SpanExporter {
  return new OTLPExporterBase(createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    serializer,
    'otlp_http_span_exporter',
    TraceExporterMetricsHelper,
    undefined,
  ));
}
