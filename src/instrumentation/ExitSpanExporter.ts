/**
 * The exporter the batch processor drives, wrapped so that spans survive the
 * process ending on its own: process.exit(), an uncaught exception, an
 * unhandled rejection. All of these run process.on('exit') listeners
 * synchronously and nothing after them, so an asynchronous export started
 * there never leaves. `drainSync` takes what is left — the batch processor's
 * queue (its forceFlush hands it to export() in the same tick) and any batch
 * whose asynchronous export had not been answered — and sends it in one
 * blocking request (postSync). A batch in flight may so be sent twice; a
 * duplicate span beats a lost one, and the backend keys spans by id.
 */
import type { ExportResult } from '@opentelemetry/core';
import { ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { postSync } from './postSync';

/** Sends spans before this function returns; returns whether they were accepted. */
export type SyncSpanSender = (spans: ReadableSpan[], timeoutMs: number) => boolean;

/** Where OTLP/HTTP spans go, for the blocking send at exit. */
export interface OtlpTarget {
  url: string;
  protocol: 'http/protobuf' | 'http/json';
}

/** OTEL_EXPORTER_OTLP_(TRACES_)HEADERS as the OTLP exporters read them: `key=value,key2=value2`, URL-encoded. */
function envHeaders(): Record<string, string> {
  const raw = process.env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? process.env.OTEL_EXPORTER_OTLP_HEADERS ?? '';
  const headers: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    try {
      headers[decodeURIComponent(pair.slice(0, eq).trim())] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      // A malformed pair: the async exporter skips it too.
    }
  }
  return headers;
}

/** A sender posting OTLP/HTTP (protobuf or JSON) to `target` with the configured headers. */
export function otlpSyncSender(target: OtlpTarget): SyncSpanSender {
  const json = target.protocol === 'http/json';
  const headers = { ...envHeaders(), 'content-type': json ? 'application/json' : 'application/x-protobuf' };
  return (spans, timeoutMs) => {
    const body = (json ? JsonTraceSerializer : ProtobufTraceSerializer).serializeRequest(spans);
    if (body === undefined) return false;
    const status = postSync({ url: target.url, headers, body, timeoutMs });
    return status !== null && status >= 200 && status < 300;
  };
}

/** Delegates to `inner`, keeping the batches not yet answered, until drainSync() takes over. */
export class ExitSpanExporter implements SpanExporter {
  private readonly inFlight = new Set<ReadableSpan[]>();
  private readonly leftovers: ReadableSpan[][] = [];
  private draining = false;

  constructor(private readonly inner: SpanExporter, private readonly sendSync: SyncSpanSender) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.draining) {
      this.leftovers.push(spans);
      resultCallback({ code: ExportResultCode.SUCCESS });
      return;
    }
    this.inFlight.add(spans);
    this.inner.export(spans, (result) => {
      this.inFlight.delete(spans);
      resultCallback(result);
    });
  }

  /**
   * Sends, before returning, every span not known to be delivered: `flushQueues`
   * must hand the processors' queues to export() synchronously. Returns how
   * many spans were sent, or -1 when the send failed or timed out.
   */
  drainSync(flushQueues: () => void, timeoutMs: number): number {
    this.draining = true;
    try {
      flushQueues();
      const spans = [...this.inFlight, ...this.leftovers].flat();
      this.inFlight.clear();
      this.leftovers.length = 0;
      if (spans.length === 0) return 0;
      return this.sendSync(spans, timeoutMs) ? spans.length : -1;
    } finally {
      this.draining = false;
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
