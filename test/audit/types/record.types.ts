// Type-level tests of audit.record(): checked by tsc (test/audit/types.test.ts
// runs it). Every `@ts-expect-error` must hit a real error, or tsc fails with
// "Unused '@ts-expect-error' directive", so each line proves a compile error.
import { audit } from '../../../src/audit/audit';
import type { DetailsOf } from '../../../src/audit/catalog/index';
import type {} from '../../../src/index';

// Valid calls compile.
audit.record('PRICE_CHANGE', { resourceId: 'p-1', details: { product: 'p-1', old_price: 1.5, new_price: 1.75 } });
audit.record('DEVICE_CREATE', { details: { device_name: 'Lobby', location: 'HQ', device_type: 'snack' } });
audit.record('PLANOGRAM_UPDATE', { details: { slot: 'A3', old_product: null, new_product: 42, par_level: 12 } });
audit.record('LOGOUT'); // no required detail: fields may be left out
audit.record('DEX_UPLOAD', { actor: { id: 'system:dex-import' }, details: { file_name: 'a.dex', records_processed: 3 } });
audit.record('DATA_EXPORT', { details: { dataset: 'sales', format: 'csv', record_count: 1, date_range: { from: 'a', to: 'b' } } });

// A misspelt detail field.
// @ts-expect-error nwe_price is not a field of PRICE_CHANGE
audit.record('PRICE_CHANGE', { details: { product: 'p-1', old_price: 1.5, nwe_price: 1.75 } });

// A missing required detail field.
// @ts-expect-error new_price is required
audit.record('PRICE_CHANGE', { details: { product: 'p-1', old_price: 1.5 } });

// Details left out although some are required.
// @ts-expect-error PRICE_CHANGE has required details
audit.record('PRICE_CHANGE', {});

// @ts-expect-error fields are required when details are
audit.record('DEVICE_CREATE');

// A detail field of the wrong type.
// @ts-expect-error old_price is a number
audit.record('PRICE_CHANGE', { details: { product: 'p-1', old_price: '1.50', new_price: 2 } });

// A value outside an enum.
// @ts-expect-error format must be one of the catalog's formats
audit.record('DATA_EXPORT', { details: { dataset: 'sales', format: 'docx', record_count: 1 } });

// A nested closed object.
// @ts-expect-error date_range needs from and to
audit.record('SALES_REPORT_VIEW', { details: { date_range: { from: 'a' }, filters: {} } });

// An unknown action (use PRICE_CHANGE).
// @ts-expect-error PRODUCT_PRICE_CHANGE is deliberately not in the catalog
audit.record('PRODUCT_PRICE_CHANGE', { details: {} });

// A bad envelope field.
// @ts-expect-error outcome is success | failure
audit.record('LOGOUT', { outcome: 'maybe' });

// The derived type itself.
const placement: DetailsOf<'ORDER_COMPLETE'> = { driver: 'u-1', items_serviced: 3, duration_minutes: 12, photos_uploaded: 1 };
void placement;
// @ts-expect-error photos_uploaded is required
const incomplete: DetailsOf<'ORDER_COMPLETE'> = { driver: 'u-1', items_serviced: 3, duration_minutes: 12 };
void incomplete;

// defineAction() returns a recorder typed by its own schema.
const recordRestart = audit.defineAction({
  name: 'MACHINE_RESTART',
  category: 'device',
  severity: 'medium',
  details: { type: 'object', properties: { cause: { type: 'string' }, uptime_s: { type: 'integer' } }, required: ['cause'] },
});
recordRestart({ details: { cause: 'watchdog', uptime_s: 5 } });
// @ts-expect-error causee is not a field of MACHINE_RESTART
recordRestart({ details: { causee: 'watchdog' } });
// @ts-expect-error cause is required
recordRestart({ details: { uptime_s: 5 } });

// Apps type their own actions for record() by augmenting CustomAuditActions
// (from 'cvd-activity' in an app; here the source entry point).
declare module '../../../src/index' {
  interface CustomAuditActions {
    VENDING_AUDIT_PRINT: { copies: number };
  }
}
audit.record('VENDING_AUDIT_PRINT', { details: { copies: 2 } });
// @ts-expect-error copies is a number
audit.record('VENDING_AUDIT_PRINT', { details: { copies: 'two' } });
