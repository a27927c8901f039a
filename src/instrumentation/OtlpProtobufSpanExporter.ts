/**
 * The OTLP/HTTP protobuf transport of OpenTelemetry JS (its retries, timeouts,
 * headers and OTEL_EXPORTER_OTLP_* variables), sending batches that
 * EncodingSpanProcessor has already encoded (spanSerializer.ts).
 */
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';

/** An encoded ExportTraceServiceRequest and how many spans it holds. */
export interface EncodedSpanBatch {
  readonly length: number;
  readonly bytes: Uint8Array;
}

const serializer: ISerializer<EncodedSpanBatch, IExportTraceServiceResponse> = {
  serializeRequest: (batch) => batch.bytes,
  deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
};

/** Exporter of encoded span batches; `config` as for @opentelemetry/exporter-trace-otlp-proto's OTLPTraceExporter. */
export type EncodedSpanExporter = OTLPExporterBase<EncodedSpanBatch>;

/** An OTLP/HTTP protobuf exporter of encoded span batches. */
export function createOtlpProtobufSpanExporter(config: OTLPExporterNodeConfigBase = {}): EncodedSpanExporter {
  return new OTLPExporterBase(createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    serializer,
    'otlp_http_span_exporter',
    { name: 'span', countItems: (batch: EncodedSpanBatch) => batch.length },
    undefined,
  ));
}
