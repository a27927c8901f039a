import { expect } from 'chai';
import { AuditValidationError } from '../../src/audit/errors';
import { builtinCatalog, catalogGroups } from '../../src/audit/catalog/index';
import type { ActionSpec } from '../../src/audit/catalog/schema';
import { Redactor } from '../../src/audit/redact';
import { DEFAULT_REDACTION_FIELDS, newTestRecorder } from '../support/audit';

const catalog: Record<string, ActionSpec> = builtinCatalog;

/** Records `fields` for `action` in strict mode and returns the error thrown. */
function strictError(action: string, fields: unknown): AuditValidationError {
  const { recorder } = newTestRecorder({ strict: true, mirror: 'none' });
  try {
    recorder.record(action, fields);
  } catch (err) {
    expect(err).to.be.instanceOf(AuditValidationError);
    return err as AuditValidationError;
  }
  throw new Error(`${action}: no error for ${JSON.stringify(fields)}`);
}

describe('audit/catalog', () => {
  it('holds the ten tracked actions with the review table’s security levels', () => {
    const table = {
      LOGIN: 'high', LOGOUT: 'medium', PASSWORD_CHANGE: 'critical', PASSWORD_RESET: 'critical', USER_CREATE: 'high',
      USER_UPDATE: 'medium', VIEW_ACTIVITY_MONITOR: 'medium', VIEW_USER_ACTIVITY: 'medium', TERMINATE_SESSION: 'high', ORDER_SYNC: 'low',
    };
    for (const [name, severity] of Object.entries(table)) expect(catalog[name]?.severity, name).to.equal(severity);
  });

  it('holds every action the review names as untracked or as a security gap', () => {
    const named = [
      'DEVICE_CREATE', 'DEVICE_UPDATE', 'DEVICE_DELETE', 'CABINET_UPDATE', 'DEVICE_LOCATION_UPDATE', 'DEVICE_STATUS_CHANGE',
      'PLANOGRAM_UPDATE', 'PLANOGRAM_SLOT_UPDATE', 'PAR_LEVEL_CHANGE', 'PLANOGRAM_TEMPLATE_UPDATE', 'PLANOGRAM_OPTIMIZE',
      'ORDER_CREATE', 'ORDER_ASSIGN', 'ORDER_COMPLETE', 'ORDER_CANCEL', 'PICK_LIST_GENERATE', 'PHOTO_UPLOAD', 'VISIT_CONFIRM',
      'PRODUCT_CREATE', 'PRODUCT_UPDATE', 'PRODUCT_DELETE', 'INVENTORY_ADJUST', 'STOCK_UPDATE', 'CATEGORY_CHANGE',
      'DEX_UPLOAD', 'SALES_REPORT_VIEW', 'REVENUE_EXPORT', 'PRICE_CHANGE', 'PRICING_STRATEGY_CHANGE', 'REVENUE_REPORT_GENERATE',
      'ROUTE_ASSIGN', 'ROUTE_SCHEDULE_CHANGE', 'ROUTE_DRIVER_CHANGE', 'ROUTE_STOP_ADD', 'ROUTE_STOP_REMOVE',
      'LOGIN_FAILED', 'DATA_EXPORT', 'BULK_OPERATION', 'PERMISSION_CHANGE', 'CONFIG_CHANGE', 'FILE_DOWNLOAD', 'SECURITY_ALERT',
    ];
    expect(named.filter((n) => !(n in catalog))).to.deep.equal([]);
    expect(Object.keys(catalog)).to.have.length(56); // the review's 52, AUDIT_CHECKPOINT (#15), PERSONAL_DATA_ERASURE, AUDIT_IMPORT and RETENTION_APPLY (#13)
  });

  it('keeps PRODUCT_PRICE_CHANGE out on purpose and points to PRICE_CHANGE', () => {
    expect(catalog).not.to.have.property('PRODUCT_PRICE_CHANGE');
    const err = strictError('PRODUCT_PRICE_CHANGE', { details: {} });
    expect(err.code).to.equal('ERR_AUDIT_UNKNOWN_ACTION');
    expect(err.message).to.include('use PRICE_CHANGE');
  });

  it('has the review’s required detail fields for its examples', () => {
    const required = (a: string) => [...catalog[a]!.details.required];
    expect(required('DEVICE_CREATE')).to.have.members(['device_name', 'location', 'device_type']);
    expect(required('PLANOGRAM_UPDATE')).to.have.members(['slot', 'old_product', 'new_product', 'par_level']);
    expect(required('ORDER_COMPLETE')).to.have.members(['driver', 'items_serviced', 'duration_minutes', 'photos_uploaded']);
    expect(required('DEX_UPLOAD')).to.have.members(['file_name', 'records_processed']);
    expect(required('PRICE_CHANGE')).to.have.members(['product', 'old_price', 'new_price']);
    expect(required('LOGIN_FAILED')).to.have.members(['username', 'attempt_count', 'max_attempts']);
    expect(required('PERMISSION_CHANGE')).to.have.members(['target_user_id', 'old_role', 'new_role']);
    expect(required('CONFIG_CHANGE')).to.have.members(['setting', 'old_value', 'new_value']);
  });

  it('declares personal and count fields that exist in each schema, and lists every action in exactly one group', () => {
    const grouped = catalogGroups.flatMap((g) => Object.keys(g.actions));
    expect(grouped).to.have.members(Object.keys(catalog));
    expect(new Set(grouped).size).to.equal(grouped.length);
    for (const [name, spec] of Object.entries(catalog)) {
      expect(name).to.match(/^[A-Z][A-Z0-9_]+$/);
      const properties = Object.keys(spec.details.properties);
      for (const field of [...(spec.personal ?? []), spec.affectedRecordsFrom, spec.secretNameField].filter(Boolean)) {
        expect(properties, `${name}: ${field}`).to.include(field);
      }
    }
  });

  it('names no detail field so that the default redaction list would mask it', () => {
    const redactor = new Redactor(DEFAULT_REDACTION_FIELDS);
    const masked = Object.entries(catalog).flatMap(([name, spec]) => Object.keys(spec.details.properties).filter((f) => redactor.isSecret(f)).map((f) => `${name}.${f}`));
    expect(masked).to.deep.equal([]);
  });

  for (const [name, spec] of Object.entries(catalog)) {
    describe(name, () => {
      it('accepts its example, in strict mode, as a valid event', () => {
        const { recorder, sink } = newTestRecorder({ strict: true, mirror: 'none' });
        recorder.record(name, spec.example);
        const [event] = sink.events;
        expect(event!.schemaValid).to.equal(true);
        expect(event!.category).to.equal(spec.category);
        expect(event!.severity).to.equal(spec.severity);
        expect(event!.resourceType).to.equal(spec.resourceType);
        for (const field of spec.personal ?? []) {
          expect(event!.details, `${field} moved out`).not.to.have.property(field);
          if (field in spec.example.details) expect(event!.personal.fields[field]).to.be.a('string');
        }
      });

      it('rejects a misspelt detail field, naming the action, the path and the rule', () => {
        const err = strictError(name, { ...spec.example, details: { ...spec.example.details, misspelt_field: 1 } });
        expect(err.code).to.equal('ERR_AUDIT_INVALID_EVENT');
        expect(err.message).to.include(`audit.record('${name}')`).and.include('/details/misspelt_field').and.include('additionalProperties');
      });

      const firstRequired = spec.details.required[0];
      if (firstRequired) {
        it(`rejects a call without its required detail field ${firstRequired}`, () => {
          const details: Record<string, unknown> = { ...spec.example.details };
          delete details[firstRequired];
          const err = strictError(name, { ...spec.example, details });
          expect(err.errors.map((e) => [e.path, e.rule])).to.deep.include([`/details/${firstRequired}`, 'required']);
        });
      }
    });
  }
});
