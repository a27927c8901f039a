// Ablation: what a server span costs without instrumentation-http. The same
// SDK, tracer, batch processor and exporter; a bare Server#emit patch starts a
// SERVER span with the same core attributes and ends it when the response
// closes. Not a product: it shows how much of the overhead instrumentation-http's
// incoming path is (URL re-parsing, per-request EventEmitter binding, metric
// attributes, forwarded-header parsing).
const http = require('node:http');
const { context, propagation, trace, SpanKind, ROOT_CONTEXT } = require('@opentelemetry/api');
const { NodeSDK } = require('@opentelemetry/sdk-node');
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');

new NodeSDK({
  autoDetectResources: false,
  instrumentations: [],
  spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter() })],
  metricReaders: [],
  logRecordProcessors: [],
}).start();

const tracer = trace.getTracer('lean');
const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, req, res) {
  if (event !== 'request') return emit.apply(this, arguments);
  const url = req.url;
  const q = url.indexOf('?');
  const parent = req.headers.traceparent ? propagation.extract(ROOT_CONTEXT, req.headers) : ROOT_CONTEXT;
  const span = tracer.startSpan(req.method, {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': req.method, 'url.path': q < 0 ? url : url.slice(0, q), 'url.scheme': 'http',
      'client.address': req.socket.remoteAddress, 'user_agent.original': req.headers['user-agent'],
    },
  }, parent);
  res.once('close', () => {
    span.setAttribute('http.response.status_code', res.statusCode);
    span.end();
  });
  return context.with(trace.setSpan(parent, span), () => emit.apply(this, arguments));
};
