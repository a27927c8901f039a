// The processor against a real OTLP/HTTP endpoint: what arrives must be, batch
// for batch, what the SDK's own serializer writes for the same spans.
import { expect } from 'chai';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, AlwaysOffSampler } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { EncodingSpanProcessor } from '../../src/instrumentation/EncodingSpanProcessor';
import type { EncodingLimits } from '../../src/instrumentation/EncodingSpanProcessor';
import { createOtlpProtobufSpanExporter } from '../../src/instrumentation/OtlpProtobufSpanExporter';
import { activityCounters } from '../../src/instrumentation/stats';

/** An OTLP endpoint that keeps every body; while `hold` is set it answers nothing until release(). */
class Endpoint {
  readonly bodies: Buffer[] = [];
  hold = false;
  private held: ServerResponse[] = [];
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.bodies.push(Buffer.concat(chunks));
        if (this.hold) this.held.push(res);
        else res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1/traces`;
    return this;
  }

  release(): void {
    this.hold = false;
    for (const res of this.held.splice(0)) res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
  }

  async waitForBodies(n: number): Promise<void> {
    const deadline = Date.now() + 15000;
    while (this.bodies.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} export requests; got ${this.bodies.length}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.release();
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}

function setup(url: string, limits: Partial<EncodingLimits>, sampled = true) {
  const processor = new EncodingSpanProcessor(createOtlpProtobufSpanExporter({ url }), limits);
  const memory = new InMemorySpanExporter();
  const processors: SpanProcessor[] = [new SimpleSpanProcessor(memory), processor];
  const provider = new BasicTracerProvider({ spanProcessors: processors, ...(sampled ? {} : { sampler: new AlwaysOffSampler() }) });
  const tracer = provider.getTracer('@opentelemetry/instrumentation-http', '0.223.0');
  const end = (n: number): void => {
    for (let i = 0; i < n; i++) tracer.startSpan(`GET /api/${i}`, { attributes: { 'url.path': `/api/${i}`, 'http.response.status_code': 200 } }).end();
  };
  return { processor, end, spans: (): ReadableSpan[] => memory.getFinishedSpans() };
}

const sdkBytes = (spans: ReadableSpan[]): Buffer => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? new Uint8Array());

/** Concurrent exports may arrive in any order: compare the bodies as a set of batches. */
function expectBatches(bodies: Buffer[], batches: ReadableSpan[][]): void {
  expect(bodies.map((b) => b.toString('hex')).sort()).to.deep.equal(batches.map((b) => sdkBytes(b).toString('hex')).sort());
}

describe('instrumentation/EncodingSpanProcessor', function () {
  this.timeout(30000);
  let endpoint: Endpoint;
  beforeEach(async () => {
    endpoint = await new Endpoint().start();
  });
  afterEach(() => endpoint.stop());

  it('exports full batches as they fill and the rest on flush, each exactly as the SDK would encode it', async () => {
    const { processor, end, spans } = setup(endpoint.url, { maxExportBatchSize: 100, maxQueueSize: 400 });
    const exportedBefore = activityCounters.spansExported;
    end(250);
    await endpoint.waitForBodies(2);
    await processor.forceFlush();
    const all = spans();
    expectBatches(endpoint.bodies, [all.slice(0, 100), all.slice(100, 200), all.slice(200)]);
    expect(activityCounters.spansExported - exportedBefore).to.equal(250);
    await processor.shutdown();
  });

  it('exports a partial batch after the scheduled delay, without a flush', async () => {
    const { processor, end, spans } = setup(endpoint.url, { scheduledDelayMillis: 50 });
    end(3);
    await endpoint.waitForBodies(1);
    expectBatches(endpoint.bodies, [spans()]);
    await processor.shutdown();
  });

  it('drops and counts spans beyond the queue limit while exports are in flight, and never blocks', async () => {
    const { processor, end, spans } = setup(endpoint.url, { maxExportBatchSize: 5, maxQueueSize: 10 });
    endpoint.hold = true;
    const failedBefore = activityCounters.spansFailed;
    end(5); // exported, unanswered
    await endpoint.waitForBodies(1);
    end(8); // 5 fill a batch (exported, unanswered), 3 are dropped
    await endpoint.waitForBodies(2);
    expect(activityCounters.spansFailed - failedBefore).to.equal(3);
    endpoint.release();
    await processor.forceFlush();
    const all = spans();
    expectBatches(endpoint.bodies, [all.slice(0, 5), all.slice(5, 10)]);
    await processor.shutdown();
  });

  it('skips unsampled spans; shutdown flushes once and is idempotent', async () => {
    const unsampled = setup(endpoint.url, {}, false);
    unsampled.end(5);
    await unsampled.processor.forceFlush();
    expect(endpoint.bodies).to.have.length(0);

    const { processor, end, spans } = setup(endpoint.url, {});
    end(4);
    await Promise.all([processor.shutdown(), processor.shutdown()]);
    expectBatches(endpoint.bodies, [spans()]);
    end(2); // after shutdown: ignored
    await processor.forceFlush();
    expect(endpoint.bodies).to.have.length(1);
  });
});
