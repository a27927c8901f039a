/**
 * The events of bench/ingest, made the way an app makes them: `record()` of a
 * real AuditRecorder (catalog validation, redaction, actor and trace context,
 * personal data moved apart) inside request contexts with a signed-in user.
 */
import { createAuditRecorder } from '../../src/audit/AuditRecorder';
import type { AuditRecorder } from '../../src/audit/AuditRecorder';
import { ActionRegistry } from '../../src/audit/ActionRegistry';
import { newRequestContext, runWithRequestContext, setUser } from '../../src/audit/context';
import type { RequestContext } from '../../src/audit/context';
import type { AuditEvent, AuditSink } from '../../src/audit/types';
import { defaultConfig } from '../../src/config/defaults';

const registry = new ActionRegistry();
const config = defaultConfig({});

/** A recorder as start() builds it (production defaults: lenient, mirror none unless tracing), delivering to `sink`. */
export function benchRecorder(sink: AuditSink): AuditRecorder {
  return createAuditRecorder({ registry, sink, config: { ...config, serviceName: 'cvd-api', audit: { ...config.audit, mirror: 'none' } } });
}

/** An AuditSink that keeps events in an array (to hand the baselines the very rows the pipeline stores). */
export function arraySink(): AuditSink & { events: AuditEvent[] } {
  const events: AuditEvent[] = [];
  return { events, enqueue: (e) => void events.push(e), forceFlush: async () => {}, shutdown: async () => {} };
}

// 300 signed-in users behind 50 client addresses: what request contexts carry.
const contexts: RequestContext[] = Array.from({ length: 300 }, (_, u) => {
  const ctx = newRequestContext(`203.0.113.${u % 50}`, `Mozilla/5.0 (X11; Linux x86_64) Firefox/13${u % 10}.0`);
  runWithRequestContext(ctx, () => setUser({ id: `user-${u}`, roles: ['operator'], sessionId: `sess-${u}` }));
  return ctx;
});

/** Records event `i` (a mix of four catalog actions; one in four carries a personal detail field). */
export function recordOne(recorder: AuditRecorder, i: number): void {
  runWithRequestContext(contexts[i % contexts.length]!, () => {
    switch (i % 4) {
      case 0:
        recorder.record('PRICE_CHANGE', {
          resourceId: `p-${i % 5000}`,
          details: { product: `p-${i % 5000}`, old_price: 1.5, new_price: 1 + (i % 100) / 10, currency: 'EUR' },
          oldValue: { price: 1.5 },
          newValue: { price: 1 + (i % 100) / 10 },
        });
        break;
      case 1:
        recorder.record('DEVICE_UPDATE', {
          resourceId: `dev-${i % 900}`,
          details: { device_name: `Lobby Snack ${i % 900}`, changed_fields: ['telemetry_interval'] },
          oldValue: { telemetry_interval: 300 },
          newValue: { telemetry_interval: 60 },
        });
        break;
      case 2:
        recorder.record('DEX_UPLOAD', {
          resourceId: `dex-${i}`,
          details: { file_name: `DEX_${i % 900}.txt`, records_processed: 200 + (i % 50), records_rejected: 0, device_id: `dev-${i % 900}` },
        });
        break;
      default:
        recorder.record('LOGIN_FAILED', {
          details: { username: `user${i % 300}@example.com`, attempt_count: 1 + (i % 5), max_attempts: 5 },
          outcome: 'failure',
          reason: 'bad_password',
        });
    }
  });
}

/** `n` events recorded into an array (untimed): the rows the baselines write. */
export function recordedEvents(n: number, offset = 0): AuditEvent[] {
  const sink = arraySink();
  const recorder = benchRecorder(sink);
  for (let i = 0; i < n; i++) recordOne(recorder, offset + i);
  return sink.events;
}
