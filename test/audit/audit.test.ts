import { expect } from 'chai';
import { audit, installAuditRecorder, installAuditSink, resetAuditForTests } from '../../src/audit/audit';
import { MemoryAuditSink } from '../../src/audit/MemoryAuditSink';
import { newRequestContext, runWithRequestContext, setUser } from '../../src/audit/context';
import { AuditDefinitionError, AuditNotStartedError, AuditValidationError } from '../../src/audit/errors';
import { captureDiag, newTestRecorder, testAuditConfig } from '../support/audit';

describe('audit (facade)', () => {
  beforeEach(resetAuditForTests);
  after(resetAuditForTests);

  it('refuses record() and loginFailed() before start() with AuditNotStartedError: no id for an event not on disk', () => {
    for (const call of [() => audit.record('LOGOUT'), () => audit.loginFailed({ username: 'eve' }), () => audit.priceChange({ product: 'p', oldPrice: 1, newPrice: 2 })]) {
      expect(call).to.throw(AuditNotStartedError, /not started, so the event was not recorded.*--require cvd-activity\/register/)
        .with.property('code', 'ERR_AUDIT_NOT_STARTED');
    }
    const { recorder, sink } = newTestRecorder();
    installAuditRecorder(recorder);
    expect(audit.record('LOGOUT')).to.be.a('string');
    // Nothing from before start() turns up later.
    expect(sink.events).to.have.length(1);
  });

  it('helpers fill the review’s fields: dataExport, permissionChange, configChange, priceChange, bulkOperation', () => {
    const { recorder, sink } = newTestRecorder({ strict: true });
    installAuditRecorder(recorder);
    audit.dataExport({ dataset: 'device_sales', format: 'csv', recordCount: 12_840, filters: { region: 'north' }, dateRange: { from: '2024-12-01', to: '2024-12-31' } });
    audit.permissionChange({ targetUserId: 'u-2', oldRole: 'driver', newRole: 'admin' });
    audit.configChange({ setting: 'session_timeout', oldValue: 30, newValue: 240 });
    audit.priceChange({ product: 'p-1', oldPrice: 1.5, newPrice: 1.75, currency: 'EUR' });
    audit.bulkOperation({ operation: 'delete', targetType: 'product', affectedRecords: 120 });
    expect(sink.events.map((e) => [e.action, e.schemaValid, e.affectedRecords])).to.deep.equal([
      ['DATA_EXPORT', true, 12_840], ['PERMISSION_CHANGE', true, null], ['CONFIG_CHANGE', true, null], ['PRICE_CHANGE', true, null], ['BULK_OPERATION', true, 120],
    ]);
    expect(sink.events[1]!.details).to.deep.equal({ target_user_id: 'u-2', old_role: 'driver', new_role: 'admin' });
    expect(sink.events[3]!.resourceId).to.equal('p-1');
  });

  it('defineAction adds a validated, typed action; a taken name or a bad definition is a clear error', () => {
    const { recorder, sink } = newTestRecorder({ strict: true }, { freshRegistry: true });
    installAuditRecorder(recorder);
    const recordRestart = audit.defineAction({
      name: 'MACHINE_RESTART',
      category: 'device',
      severity: 'medium',
      resourceType: 'device',
      details: { type: 'object', properties: { cause: { type: 'string' }, uptime_s: { type: 'integer' } }, required: ['cause'] },
      example: { details: { cause: 'watchdog', uptime_s: 10 } },
    });
    recordRestart({ resourceId: 'dev-1', details: { cause: 'watchdog' } });
    expect(sink.events[0]).to.deep.include({ action: 'MACHINE_RESTART', category: 'device', resourceType: 'device', schemaValid: true });
    expect(() => recordRestart({ details: { cause: 'x', extra: 1 } as never })).to.throw(AuditValidationError, '/details/extra');
    expect(() => audit.defineAction({ name: 'PRICE_CHANGE', category: 'financial', severity: 'high', details: { type: 'object' } }))
      .to.throw(AuditDefinitionError, 'action PRICE_CHANGE is already defined by the built-in catalog').with.property('code', 'ERR_AUDIT_DUPLICATE_ACTION');
    expect(() => audit.defineAction({ name: 'MACHINE_RESTART', category: 'device', severity: 'low', details: { type: 'object' } }))
      .to.throw(AuditDefinitionError, 'already defined by an earlier defineAction()');
    expect(() => audit.defineAction({ name: 'bad name', category: 'device', severity: 'urgent' as never, details: { type: 'object' } }))
      .to.throw(AuditDefinitionError, '/name must match pattern').and.to.have.property('code', 'ERR_AUDIT_INVALID_DEFINITION');
    expect(() => audit.defineAction({ name: 'X_ONE', category: 'device', severity: 'low', details: { type: 'object', properties: { a: { type: 'strin' as never } } } }))
      .to.throw(AuditDefinitionError, 'details is not a valid JSON Schema');
    expect(() => audit.defineAction({ name: 'X_TWO', category: 'device', severity: 'low', personal: ['email'], details: { type: 'object', properties: { a: { type: 'string' } } } }))
      .to.throw(AuditDefinitionError, "'email' is not a property of details");
  });

  it('installAuditSink (what start() calls) installs a recorder on the sink; its shutdown stops recording and the sink', async () => {
    const sink = new MemoryAuditSink();
    const recorder = installAuditSink(sink, testAuditConfig({ strict: true }));
    audit.record('LOGOUT');
    audit.record('LOGOUT');
    expect(sink.events).to.have.length(2);
    await recorder.shutdown();
    expect(() => audit.record('LOGOUT')).to.throw('cannot record after shutdown');
    expect(() => sink.enqueue(sink.events[0]!)).to.throw('after shutdown');
  });
});
