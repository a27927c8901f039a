import { expect } from 'chai';
import { context, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { newRequestContext, runWithRequestContext, setUser } from '../../src/audit/context';
import { AuditShutdownError, AuditValidationError } from '../../src/audit/errors';
import type { AuditEvent, AuditSink } from '../../src/audit/types';
import { createAuditRecorder } from '../../src/audit/AuditRecorder';
import { captureDiag, newTestRecorder, startTestTracing, testAuditConfig, UNSAMPLED_PREFIX } from '../support/audit';

const example = { resourceId: 'p-water-500', details: { product: 'p-water-500', old_price: 1.5, new_price: 1.75 } };

describe('audit/AuditRecorder', () => {
  let tracing: ReturnType<typeof startTestTracing>;
  before(() => {
    tracing = startTestTracing();
  });
  after(async () => {
    await tracing.stop();
  });
  beforeEach(() => tracing.exporter.reset());

  it('captures actor, client address, user agent, session and trace context of the current request', () => {
    const { recorder, sink } = newTestRecorder();
    let traceId = '';
    let spanId = '';
    const id = runWithRequestContext(newRequestContext('203.0.113.7', 'curl/8.5'), () =>
      tracing.tracer.startActiveSpan('GET /prices', (span) => {
        setUser({ id: 'u-1042', roles: ['admin'], sessionId: 's-9' });
        ({ traceId, spanId } = span.spanContext());
        const eventId = recorder.record('PRICE_CHANGE', example);
        span.end();
        return eventId;
      }),
    );
    const [event] = sink.events;
    expect(event!.eventId).to.equal(id).and.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(event!.actor).to.deep.equal({ id: 'u-1042', roles: ['admin'], sessionId: 's-9', type: 'user' });
    expect(event!.personal.clientAddress).to.equal('203.0.113.7');
    expect(event!.personal.userAgent).to.equal('curl/8.5');
    expect([event!.traceId, event!.spanId]).to.deep.equal([traceId, spanId]);
    expect(event!.serviceName).to.equal('audit-test');
    expect(Date.parse(event!.occurredAt)).to.be.closeTo(Date.now(), 60_000);
  });

  it('mirrors the event as a span event `audit` carrying the documented attributes', () => {
    const { recorder, sink } = newTestRecorder();
    runWithRequestContext(newRequestContext('10.0.0.1', 'ua'), () =>
      tracing.tracer.startActiveSpan('POST /bulk', (span) => {
        setUser({ id: 'u-7' });
        recorder.record('BULK_OPERATION', { details: { operation: 'deactivate', target_type: 'device', affected_records: 140 }, oldValue: { active: true }, newValue: { active: false } });
        span.end();
      }),
    );
    const [span] = tracing.exporter.getFinishedSpans();
    const auditEvent = span!.events.find((e) => e.name === 'audit');
    expect(auditEvent?.attributes).to.deep.include({
      'audit.action': 'BULK_OPERATION',
      'audit.event_id': sink.events[0]!.eventId,
      'audit.category': 'security',
      'audit.severity': 'high',
      'audit.outcome': 'success',
      'audit.affected_records': 140,
      'audit.old_value': '{"active":true}',
      'audit.new_value': '{"active":false}',
      'user.id': 'u-7',
    });
    expect(JSON.parse(auditEvent!.attributes!['audit.details'] as string)).to.deep.equal({ operation: 'deactivate', target_type: 'device', affected_records: 140 });
  });

  it('records outside any span on a short span of its own, whose ids the event carries', () => {
    const { recorder, sink } = newTestRecorder();
    recorder.record('DEX_UPLOAD', { resourceId: 'dex-1', actor: { id: 'system:dex-import' }, details: { file_name: 'a.dex', records_processed: 9 } });
    const [span] = tracing.exporter.getFinishedSpans();
    expect(span!.name).to.equal('audit DEX_UPLOAD');
    expect(span!.events[0]!.attributes).to.deep.include({ 'audit.resource.type': 'dex_file', 'audit.resource.id': 'dex-1', 'user.id': 'system:dex-import' });
    const [event] = sink.events;
    expect(event!.traceId).to.equal(span!.spanContext().traceId);
    expect(event!.actor).to.deep.equal({ id: 'system:dex-import', roles: [], sessionId: null, type: 'system' });
    expect(event!.affectedRecords).to.equal(9);
  });

  it('still hands events of unsampled, noise-dropped (tracing suppressed) and untraced requests to the sink', () => {
    const { recorder, sink } = newTestRecorder();
    runWithRequestContext(newRequestContext('10.0.0.2', null), () => {
      setUser({ id: 'u-1' });
      tracing.tracer.startActiveSpan(`${UNSAMPLED_PREFIX} GET /poll`, (span) => {
        expect(span.isRecording()).to.equal(false);
        recorder.record('PRICE_CHANGE', example);
        span.end();
      });
      // A noise-dropped request: instrumentation-http runs it with tracing suppressed and no span.
      context.with(suppressTracing(context.active()), () => recorder.record('PRICE_CHANGE', example));
      // A request outside any trace at all.
      recorder.record('PRICE_CHANGE', example);
    });
    expect(sink.events).to.have.length(3);
    expect(sink.events.map((e) => e.actor.id)).to.deep.equal(['u-1', 'u-1', 'u-1']);
    expect(sink.events[0]!.traceId).to.match(/^[0-9a-f]{32}$/);
    expect(sink.events[1]!.traceId).to.equal(null);
    expect(tracing.exporter.getFinishedSpans().map((s) => s.name)).to.deep.equal(['audit PRICE_CHANGE']);
  });

  it('redacts secret-named fields at any depth of details, old and new values, and in the mirror', () => {
    const { recorder, sink } = newTestRecorder();
    recorder.record('USER_UPDATE', {
      details: { changed_fields: ['password', 'api_key'] },
      oldValue: { Password: 'hunter2', nested: [{ apiKey: 'key-zz-1', name: 'x' }], 'card-number': '4111-1111' },
      newValue: { profile: { PASSWORD_HASH: 'hash-zz', token: { a: 1 } }, cvv: 123 },
    });
    const [event] = sink.events;
    expect(event!.oldValue).to.deep.equal({ Password: 'REDACTED', nested: [{ apiKey: 'REDACTED', name: 'x' }], 'card-number': 'REDACTED' });
    expect(event!.newValue).to.deep.equal({ profile: { PASSWORD_HASH: 'REDACTED', token: 'REDACTED' }, cvv: 'REDACTED' });
    expect(event!.details).to.deep.equal({ changed_fields: ['password', 'api_key'] });
    const mirrored = JSON.stringify(tracing.exporter.getFinishedSpans().flatMap((s) => s.events));
    for (const secret of ['hunter2', 'key-zz-1', '4111-1111', 'hash-zz']) expect(mirrored).not.to.include(secret);
  });

  it('redacts the values of a CONFIG_CHANGE whose setting is named like a secret', () => {
    const { recorder, sink } = newTestRecorder();
    recorder.record('CONFIG_CHANGE', { details: { setting: 'smtp.password', old_value: 'old-pw', new_value: 'new-pw' }, oldValue: 'old-pw', newValue: 'new-pw' });
    expect(sink.events[0]).to.deep.include({ details: { setting: 'smtp.password', old_value: 'REDACTED', new_value: 'REDACTED' }, oldValue: 'REDACTED', newValue: 'REDACTED' });
  });

  it('strict mode throws AuditValidationError with action, path and rule and hands nothing to the sink', () => {
    const { recorder, sink } = newTestRecorder({ strict: true });
    expect(() => recorder.record('PRICE_CHANGE', { details: { product: 'p', old_price: '1.50', new_price: 2 } }))
      .to.throw(AuditValidationError, "audit.record('PRICE_CHANGE'): /details/old_price must be number (type)");
    expect(() => recorder.record('NOT_AN_ACTION', {})).to.throw(AuditValidationError, "'NOT_AN_ACTION' is not a known action").with.property('code', 'ERR_AUDIT_UNKNOWN_ACTION');
    expect(() => recorder.record('PRICE_CHANGE', { ...example, outcome: 'maybe' as never })).to.throw(AuditValidationError, '/outcome must be "success" or "failure"');
    expect(sink.events).to.have.length(0);
  });

  it('lenient mode keeps invalid and unknown events, marked, and warns once per action', () => {
    const { recorder, sink } = newTestRecorder({ strict: false });
    const { messages } = captureDiag(() => {
      recorder.record('PRICE_CHANGE', { details: { product: 'p', old_price: '1.50', new_price: 2 } });
      recorder.record('PRICE_CHANGE', { details: { product: 'p' } });
      recorder.record('NOT_AN_ACTION', { details: { a: 1 } });
    });
    expect(sink.events.map((e) => e.schemaValid)).to.deep.equal([false, false, false]);
    expect(sink.events[0]!.schemaErrors).to.deep.equal(['/details/old_price must be number (type)']);
    expect(sink.events[0]!.details).to.deep.equal({ product: 'p', old_price: '1.50', new_price: 2 });
    expect(sink.events[2]).to.deep.include({ action: 'NOT_AN_ACTION', category: 'unknown', details: { a: 1 } });
    expect(messages.filter((m) => m.includes('PRICE_CHANGE'))).to.have.length(1);
    expect(messages.filter((m) => m.includes('NOT_AN_ACTION'))).to.have.length(1);
  });

  it('truncates values over maxFieldBytes with a marker instead of dropping them', () => {
    const { recorder, sink } = newTestRecorder({ maxFieldBytes: 1024 });
    const big = 'é'.repeat(5000);
    recorder.record('DEVICE_DELETE', { details: { device_name: 'x', reason: big }, oldValue: { rows: Array.from({ length: 500 }, (_, i) => ({ i })) } });
    const [event] = sink.events;
    const reason = event!.details.reason as string;
    expect(reason.endsWith('…[truncated]')).to.equal(true);
    expect(Buffer.byteLength(reason)).to.be.at.most(1024);
    expect(event!.oldValue).to.include({ _truncated: true }).and.have.property('_preview').that.is.a('string');
    expect((event!.oldValue as { _originalBytes: number })._originalBytes).to.be.greaterThan(1024);
  });

  it('turns functions, cycles, BigInt, Dates, Buffers, Symbols, undefined and NaN into JSON-safe values', () => {
    const { recorder, sink } = newTestRecorder({ strict: false });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const weird = { fn: () => 1, cyclic, big: 10n ** 30n, small: 7n, at: new Date(0), buf: Buffer.from('abc'), sym: Symbol('s'), undef: undefined, nan: NaN, inf: -Infinity, map: new Map([['k', 1]]), set: new Set([1]) };
    expect(() => recorder.record('CONFIG_CHANGE', { details: { setting: 's', old_value: weird, new_value: null } })).not.to.throw();
    const oldValue = sink.events[0]!.details.old_value as Record<string, unknown>;
    expect(oldValue).to.deep.equal({
      fn: '[Function fn]', cyclic: { name: 'loop', self: '[Circular]' }, big: '1000000000000000000000000000000', small: 7,
      at: '1970-01-01T00:00:00.000Z', buf: '[Buffer 3 bytes]', sym: 'Symbol(s)', nan: null, inf: null, map: { k: 1 }, set: [1],
    });
    expect(JSON.parse(JSON.stringify(sink.events[0]))).to.deep.equal(sink.events[0]);
  });

  it('derives affectedRecords from the action’s count field unless given, and keeps failures with a reason', () => {
    const { recorder, sink } = newTestRecorder({ strict: true });
    recorder.record('DATA_EXPORT', { details: { dataset: 'sales', format: 'csv', record_count: 12_840 } });
    recorder.record('DATA_EXPORT', { affectedRecords: 3, outcome: 'failure', reason: 'quota', details: { dataset: 'sales', format: 'csv', record_count: 0 } });
    expect(sink.events.map((e) => [e.affectedRecords, e.outcome, e.reason])).to.deep.equal([[12_840, 'success', null], [3, 'failure', 'quota']]);
  });

  it('counts failed logins per username and per client address over the sliding window', () => {
    let now = 1_000_000;
    const { recorder, sink } = newTestRecorder({ loginFailedWindowMs: 60_000, loginMaxAttempts: 3 }, { now: () => now });
    runWithRequestContext(newRequestContext('198.51.100.4', 'ua'), () => {
      recorder.loginFailed({ username: 'alice', reason: 'bad_password' });
      recorder.loginFailed({ username: 'bob' });
      now += 30_000;
      recorder.loginFailed({ username: 'alice' });
      now += 45_000; // the first two fall out of the 60 s window
      recorder.loginFailed({ username: 'alice' });
    });
    const details = sink.events.map((e) => e.details);
    expect(details.map((d) => [d.attempt_count, d.address_attempt_count, d.max_attempts])).to.deep.equal([[1, 1, 3], [1, 2, 3], [2, 3, 3], [2, 2, 3]]);
    expect(details.map((d) => d.limit_reached)).to.deep.equal([false, false, true, false]);
    expect(sink.events[0]).to.deep.include({ outcome: 'failure', reason: 'bad_password', schemaValid: true });
    expect(sink.events[0]!.personal.fields).to.deep.equal({ username: 'alice' });
    expect(sink.events[0]!.details).not.to.have.property('username');
  });

  it('mirrors as a log-based event `cvd.audit` when configured, and a throwing mirror never loses the event', async () => {
    const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = await import('@opentelemetry/sdk-logs');
    const { logs } = await import('@opentelemetry/api');
    const exporter = new InMemoryLogRecordExporter();
    logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter })] }));
    try {
      const { recorder, sink } = newTestRecorder({ mirror: 'log' });
      recorder.record('PRICE_CHANGE', example);
      const [record] = exporter.getFinishedLogRecords();
      expect(record!.eventName).to.equal('cvd.audit');
      expect(record!.attributes).to.deep.include({ 'audit.action': 'PRICE_CHANGE', 'audit.event_id': sink.events[0]!.eventId });
    } finally {
      logs.disable();
    }
    const { recorder, sink } = newTestRecorder({ mirror: 'span-event' });
    const { messages } = captureDiag(() =>
      tracing.tracer.startActiveSpan('GET /x', (span) => {
        span.addEvent = () => {
          throw new Error('mirror broke');
        };
        recorder.record('PRICE_CHANGE', example);
        span.end();
      }),
    );
    expect(sink.events).to.have.length(1);
    expect(messages.join('\n')).to.include('mirror broke');
  });

  it('after shutdown: strict throws "cannot record after shutdown"; lenient reports the whole event', async () => {
    const strict = newTestRecorder({ strict: true });
    await strict.recorder.shutdown();
    await strict.recorder.shutdown(); // idempotent
    expect(() => strict.recorder.record('PRICE_CHANGE', example)).to.throw(AuditShutdownError, 'cannot record after shutdown');
    const lenient = newTestRecorder({ strict: false });
    await lenient.recorder.shutdown();
    const warnings: unknown[][] = [];
    const emitWarning = process.emitWarning;
    process.emitWarning = ((...args: unknown[]) => void warnings.push(args)) as typeof process.emitWarning; // captured, not printed
    let messages: string[];
    try {
      ({ messages } = captureDiag(() => lenient.recorder.record('PRICE_CHANGE', example)));
    } finally {
      process.emitWarning = emitWarning;
    }
    expect(messages.join()).to.include('cannot record after shutdown').and.include('"new_price":1.75');
    expect(warnings).to.have.length(1);
    expect(warnings[0]![0]).to.include('cannot record after shutdown');
    expect(warnings[0]![1]).to.deep.equal({ code: 'CVD_AUDIT_AFTER_SHUTDOWN' });
  });

  it('a sink that refuses an event makes record() throw in both modes (the event was not accepted), and reports it', () => {
    const failing: AuditSink = { enqueue: () => { throw new Error('spool full'); }, forceFlush: async () => {}, shutdown: async () => {} };
    const lenient = createAuditRecorder({ config: testAuditConfig({ strict: false, mirror: 'none' }), sink: failing });
    const { messages } = captureDiag(() => {
      expect(() => lenient.record('PRICE_CHANGE', example)).to.throw('spool full');
    });
    expect(messages.join()).to.include('spool full');
    expect(lenient.accepted).to.equal(0);
    const strict = createAuditRecorder({ config: testAuditConfig({ strict: true, mirror: 'none' }), sink: failing });
    expect(() => strict.record('PRICE_CHANGE', example)).to.throw('spool full');
  });

  it('keeps the event independent of the caller’s objects after the call', () => {
    const { recorder, sink } = newTestRecorder();
    const details = { product: 'p', old_price: 1, new_price: 2 };
    recorder.record('PRICE_CHANGE', { details });
    details.new_price = 99;
    expect((sink.events[0] as AuditEvent).details.new_price).to.equal(2);
    expect(trace.getSpan(context.active())).to.equal(undefined);
  });
});
