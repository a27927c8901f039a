// Ablation: the floor under cvd-activity's design. The same NodeSDK, sampler-free,
// with HttpInstrumentation at its defaults (no hooks), batch + OTLP/HTTP protobuf.
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

new NodeSDK({
  autoDetectResources: false,
  instrumentations: [new HttpInstrumentation()],
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  metricReaders: [],
  logRecordProcessors: [],
}).start();
