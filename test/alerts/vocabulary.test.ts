// alerts/auditVocabulary.ts restates catalog names (alerts/ may not import
// audit/): every action name and every details field it reads must exist in
// the action catalog, so renaming a catalog field cannot silently blind an
// alert or a dashboard panel.
import { expect } from 'chai';
import { ACTIONS, FIELDS } from '../../src/alerts/auditVocabulary';
import { builtinCatalog } from '../../src/audit/catalog/index';

/** Which action each FIELDS expression reads its `details` fields from. */
const READS_FROM: Partial<Record<keyof typeof FIELDS, keyof typeof ACTIONS>> = {
  exportRecordCount: 'dataExport', exportFormat: 'dataExport',
  bulkAffected: 'bulkOperation', bulkOperation: 'bulkOperation', bulkTarget: 'bulkOperation',
  oldRole: 'permissionChange', newRole: 'permissionChange', targetUser: 'permissionChange',
  configSetting: 'configChange', configOld: 'configChange', configNew: 'configChange',
  priceProduct: 'priceChange', priceOld: 'priceChange', priceNew: 'priceChange',
  alertRuleId: 'securityAlert', alertSeverity: 'securityAlert', alertMessage: 'securityAlert',
};

const detailFields = (sql: string): string[] => [...sql.matchAll(/details->>?'([a-z_]+)'/g)].map((m) => m[1]!);

describe('alerts/auditVocabulary against the action catalog', () => {
  it('names only actions of the catalog', () => {
    for (const name of Object.values(ACTIONS)) expect(builtinCatalog, name).to.have.property(name);
  });

  it('reads only details fields the catalog defines for the action in question', () => {
    for (const [key, sql] of Object.entries(FIELDS)) {
      const fields = detailFields(sql);
      if (fields.length === 0) continue;
      const action = READS_FROM[key as keyof typeof FIELDS];
      expect(action, `FIELDS.${key} reads details: say from which action in READS_FROM`).to.be.a('string');
      const properties = Object.keys(builtinCatalog[ACTIONS[action!]]!.details.properties ?? {});
      for (const field of fields) expect(properties, `FIELDS.${key}: ${ACTIONS[action!]}.details.${field}`).to.include(field);
    }
  });

  it('finds the failed login\'s user name where the catalog keeps it (a personal field)', () => {
    expect(builtinCatalog[ACTIONS.loginFailed]!.personal).to.include(FIELDS.loginUsername);
  });
});
