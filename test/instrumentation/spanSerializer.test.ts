import { expect } from 'chai';
import fc from 'fast-check';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, TraceFlags } from '@opentelemetry/api';
import type { Attributes, AttributeValue } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { TraceState } from '@opentelemetry/core';
import { serializeSpans } from '../../src/instrumentation/spanSerializer';

/** Our bytes must equal the SDK serializer's: the Collector then sees exactly what the stock exporter would send. */
function expectSameBytes(spans: ReadableSpan[]): void {
  const ours = Buffer.from(serializeSpans(spans));
  const sdk = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array());
  expect(ours.length, 'length').to.equal(sdk.length);
  expect(ours.equals(sdk), 'bytes').to.equal(true);
}

function tracing(resourceAttributes: Attributes = { 'service.name': 'svc' }) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resourceAttributes),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits: { attributeValueLengthLimit: 100_000 },
  });
  return { exporter, provider };
}

describe('instrumentation/spanSerializer', () => {
  it('writes the SDK serializer\'s bytes for server spans like ours, several scopes and resources', () => {
    const { exporter, provider } = tracing();
    const other = tracing({ 'service.name': 'other', 'deployment.environment.name': 'test' });
    const http = provider.getTracer('@opentelemetry/instrumentation-http', '0.223.0');
    for (let i = 0; i < 300; i++) {
      const span = http.startSpan(i % 7 ? 'GET' : 'POST /api/devices/:id', {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': 'GET', 'url.path': `/api/devices/${i}`, 'client.address': '10.0.0.1', 'user_agent.original': 'Mozilla/5.0' },
      });
      span.setAttributes({ 'http.response.status_code': i % 5 ? 200 : 503, 'http.response.body.size': i * 1000, 'activity.outcome': 'success', 'user.roles': ['admin', 'ops'] });
      if (i % 5 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
      span.end();
    }
    provider.getTracer('app', undefined, { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' }).startSpan('work', { kind: SpanKind.INTERNAL }).end();
    other.provider.getTracer('x').startSpan('elsewhere').end();
    expectSameBytes([...exporter.getFinishedSpans(), ...other.exporter.getFinishedSpans()]);
  });

  it('writes events, links, trace state, remote parents, non-ASCII and long strings, large spans and every value type alike', () => {
    const { exporter, provider } = tracing();
    const tracer = provider.getTracer('t', '1');
    const parentContext = { traceId: 'a'.repeat(32), spanId: 'B'.repeat(16), traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: new TraceState('vendor=1,other=two') };
    const span = tracer.startSpan('Grüße ✓', {
      kind: SpanKind.CLIENT,
      links: [{ context: parentContext, attributes: { weight: 1.5 } }],
      attributes: {
        ascii: 'plain', utf8: 'Ünïcödé 😀', long: 'x'.repeat(200), huge: 'y'.repeat(20_000), longUtf8: 'é'.repeat(100),
        int: 42, negative: -7, big: 2 ** 40, double: 0.25, bool: true, no: false, strings: ['a', 'ü'], numbers: [1, -2, 3.5], bools: [true, false], nulls: ['a', null as unknown as string],
      },
    }, trace.setSpanContext(ROOT_CONTEXT, parentContext));
    span.addEvent('audit', { action: 'PRICE_CHANGE', amount: 12 });
    span.addEvent('bare');
    span.end();
    expect(exporter.getFinishedSpans()[0].parentSpanContext?.isRemote).to.equal(true);
    expectSameBytes(exporter.getFinishedSpans());
  });

  it('writes the SDK serializer\'s bytes for any attribute values (property)', () => {
    const value: fc.Arbitrary<AttributeValue> = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.integer(),
      fc.double({ noNaN: false }),
      fc.boolean(),
      fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { maxLength: 5 }),
      fc.array(fc.integer(), { maxLength: 5 }),
    );
    fc.assert(fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 40 }), value, { maxKeys: 20 }), fc.string({ maxLength: 80 }), (attributes, name) => {
      const { exporter, provider } = tracing();
      provider.getTracer('p').startSpan(name, { attributes }).end();
      expectSameBytes(exporter.getFinishedSpans());
    }), { numRuns: 300 });
  });

  it('serializes an empty batch to an empty request', () => {
    expect(serializeSpans([]).length).to.equal(0);
  });
});
