/**
 * OTLP ExportTraceServiceRequest protobuf encoding of finished spans, byte for
 * byte what @opentelemetry/otlp-transformer's ProtobufTraceSerializer writes
 * (test/instrumentation/spanSerializer.test.ts compares the two), in one pass
 * (ProtobufWriter.ts says why that is cheaper). Every span is serialized once
 * on its way out, so this runs once per exported request.
 */
import type { AttributeValue, Attributes, HrTime, Link, SpanStatus } from '@opentelemetry/api';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ProtobufWriter } from './ProtobufWriter';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** Bytes reserved for the length of a span (most spans are 128 B – 16 KB) and of a resource/scope block. */
const SPAN_GAP = 2;
const BLOCK_GAP = 3;
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** Serializes spans as an OTLP ExportTraceServiceRequest, grouped by resource and scope like the SDK's serializer. */
export function serializeSpans(spans: readonly ReadableSpan[]): Uint8Array {
  const byResource = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const span of spans) {
    let byScope = byResource.get(span.resource);
    if (byScope === undefined) byResource.set(span.resource, (byScope = new Map()));
    let list = byScope.get(span.instrumentationScope);
    if (list === undefined) byScope.set(span.instrumentationScope, (list = []));
    list.push(span);
  }
  const w = new ProtobufWriter(spans.length * 512 + 1024);
  for (const [resource, byScope] of byResource) {
    w.tag(1, 2);
    const rs = w.begin(BLOCK_GAP);
    writeResource(w, resource);
    for (const [scope, list] of byScope) {
      w.tag(2, 2);
      const ss = w.begin(BLOCK_GAP);
      writeScope(w, scope);
      for (let i = 0; i < list.length; i++) {
        w.tag(2, 2);
        const s = w.begin(SPAN_GAP);
        writeSpan(w, list[i]);
        w.end(s, SPAN_GAP);
      }
      if (scope.schemaUrl) {
        w.tag(3, 2);
        w.string(scope.schemaUrl);
      }
      w.end(ss, BLOCK_GAP);
    }
    if (resource.schemaUrl) {
      w.tag(3, 2);
      w.string(resource.schemaUrl);
    }
    w.end(rs, BLOCK_GAP);
  }
  return w.finish();
}

function writeResource(w: ProtobufWriter, resource: Resource): void {
  w.tag(1, 2);
  const start = w.begin(1);
  if (resource.attributes) writeAttributes(w, resource.attributes, 1);
  w.tag(2, 0);
  w.varint(0);
  w.end(start, 1);
}

function writeScope(w: ProtobufWriter, scope: Scope & { attributes?: Attributes; droppedAttributesCount?: number }): void {
  w.tag(1, 2);
  const start = w.begin(1);
  w.tag(1, 2);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, 2);
    w.string(scope.version);
  }
  if (scope.attributes) writeAttributes(w, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    w.tag(4, 0);
    w.varint(scope.droppedAttributesCount);
  }
  w.end(start, 1);
}

function writeSpan(w: ProtobufWriter, span: ReadableSpan): void {
  const ctx = span.spanContext();
  w.tag(1, 2);
  w.hexBytes(ctx.traceId);
  w.tag(2, 2);
  w.hexBytes(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.tag(3, 2);
    w.string(traceState);
  }
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    w.tag(4, 2);
    w.hexBytes(parent.spanId);
  }
  w.tag(5, 2);
  w.string(span.name);
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    w.tag(6, 0);
    w.varint(kind);
  }
  w.tag(7, 1);
  writeTime(w, span.startTime);
  w.tag(8, 1);
  writeTime(w, span.endTime);
  if (span.attributes) writeAttributes(w, span.attributes, 9);
  w.tag(10, 0);
  w.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    w.tag(11, 2);
    writeEvent(w, event);
  }
  w.tag(12, 0);
  w.varint(span.droppedEventsCount);
  for (const link of span.links) {
    w.tag(13, 2);
    writeLink(w, link);
  }
  w.tag(14, 0);
  w.varint(span.droppedLinksCount);
  w.tag(15, 2);
  writeStatus(w, span.status);
  // Field 16 needs a two-byte tag.
  w.varint((16 << 3) | 5);
  w.fixed32(flags(ctx.traceFlags, parent?.isRemote));
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function writeStatus(w: ProtobufWriter, status: SpanStatus): void {
  const start = w.begin(1);
  if (status.message) {
    w.tag(2, 2);
    w.string(status.message);
  }
  w.tag(3, 0);
  w.varint(status.code);
  w.end(start, 1);
}

function writeEvent(w: ProtobufWriter, event: TimedEvent): void {
  const start = w.begin(1);
  w.tag(1, 1);
  writeTime(w, event.time);
  w.tag(2, 2);
  w.string(event.name);
  if (event.attributes) writeAttributes(w, event.attributes, 3);
  w.tag(4, 0);
  w.varint(event.droppedAttributesCount || 0);
  w.end(start, 1);
}

function writeLink(w: ProtobufWriter, link: Link): void {
  const start = w.begin(1);
  const ctx = link.context;
  w.tag(1, 2);
  w.hexBytes(ctx.traceId);
  w.tag(2, 2);
  w.hexBytes(ctx.spanId);
  const traceState = ctx.traceState?.serialize();
  if (traceState) {
    w.tag(3, 2);
    w.string(traceState);
  }
  if (link.attributes) writeAttributes(w, link.attributes, 4);
  w.tag(5, 0);
  w.varint(link.droppedAttributesCount || 0);
  w.tag(6, 5);
  w.fixed32(flags(ctx.traceFlags, ctx.isRemote));
  w.end(start, 1);
}

/** HrTime as fixed64 nanoseconds, exact beyond 2^53 (seconds and nanos are split as the SDK's serializer does). */
function writeTime(w: ProtobufWriter, time: HrTime): void {
  const seconds = time[0];
  const lowSecondsNanos = (seconds & 0xffff) * 1e9;
  const highSecondsNanos = ((seconds / 0x10000) >>> 0) * 1e9;
  const low = (lowSecondsNanos >>> 0) + ((((highSecondsNanos & 0xffff) * 0x10000) >>> 0)) + time[1];
  const high = Math.floor(lowSecondsNanos / 0x100000000) + ((highSecondsNanos / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
  w.fixed64(low >>> 0, high >>> 0);
}

function writeAttributes(w: ProtobufWriter, attributes: Attributes, field: number): void {
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    w.tag(field, 2);
    const kv = w.begin(1);
    w.tag(1, 2);
    w.string(key);
    w.tag(2, 2);
    const value = w.begin(1);
    writeAnyValue(w, attributes[key]);
    w.end(value, 1);
    w.end(kv, 1);
  }
}

function writeAnyValue(w: ProtobufWriter, value: AttributeValue | Uint8Array | object | null | undefined): void {
  if (typeof value === 'string') {
    w.tag(1, 2);
    w.string(value);
  } else if (typeof value === 'boolean') {
    w.tag(2, 0);
    w.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
      w.tag(3, 0);
      w.varint(value);
    } else {
      w.tag(4, 1);
      w.double(value);
    }
  } else if (value instanceof Uint8Array) {
    w.tag(7, 2);
    w.bytes(value);
  } else if (Array.isArray(value)) {
    w.tag(5, 2);
    const array = w.begin(1);
    for (const item of value) {
      w.tag(1, 2);
      const start = w.begin(1);
      writeAnyValue(w, item);
      w.end(start, 1);
    }
    w.end(array, 1);
  } else if (typeof value === 'object' && value !== null) {
    w.tag(6, 2);
    const list = w.begin(1);
    writeAttributes(w, value as Attributes, 1);
    w.end(list, 1);
  }
}
