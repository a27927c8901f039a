/**
 * The audit vocabulary the alert rules and dashboards depend on: action names
 * and where in an event a number or role lives. Kept in this one file so that
 * a change in the action catalog (audit/catalog) is one edit here. alerts/ may
 * not import audit/, so the names are restated, not imported;
 * test/alerts/vocabulary.test.ts checks every one against the catalog.
 */

/** Action names as the catalog spells them. */
export const ACTIONS = {
  login: 'LOGIN',
  loginFailed: 'LOGIN_FAILED',
  dataExport: 'DATA_EXPORT',
  bulkOperation: 'BULK_OPERATION',
  permissionChange: 'PERMISSION_CHANGE',
  configChange: 'CONFIG_CHANGE',
  priceChange: 'PRICE_CHANGE',
  securityAlert: 'SECURITY_ALERT',
} as const;

/** Roles that count as "admin" for the permission-escalation rule (compared lower-cased). */
export const ADMIN_ROLES = ['admin'] as const;

/** Reads a non-negative integer out of a jsonb text field without failing on junk (schema-invalid events). */
function jsonInt(path: string): string {
  return `(CASE WHEN (${path}) ~ '^[0-9]{1,15}$' THEN (${path})::bigint END)`;
}

/*
 * Detail field names follow the catalog in audit/catalog (security.ts,
 * financial.ts): LOGIN_FAILED.username (personal, so the view's `username`
 * column), DATA_EXPORT.record_count / format (affected_records = record_count),
 * BULK_OPERATION.operation / target_type / affected_records,
 * PERMISSION_CHANGE.target_user_id / old_role / new_role,
 * CONFIG_CHANGE.setting / old_value / new_value, PRICE_CHANGE.product /
 * old_price / new_price, SECURITY_ALERT.rule / alert_severity / evidence.
 */

/** SQL expressions over `audit_trail` columns; each is valid in a SELECT list or WHERE clause. */
export const FIELDS = {
  /** Records in one export: the event's affected_records, else details.record_count. */
  exportRecordCount: `coalesce(affected_records::bigint, ${jsonInt("details->>'record_count'")})`,
  /** Format of an export (csv, xlsx, …). */
  exportFormat: `(details->>'format')`,
  /** Records touched by one bulk operation. */
  bulkAffected: `coalesce(affected_records::bigint, ${jsonInt("details->>'affected_records'")})`,
  /** What the bulk operation did, and to which kind of record. */
  bulkOperation: `(details->>'operation')`,
  bulkTarget: `coalesce(details->>'target_type', resource_type)`,
  /** Role before and after a permission change (details first, then old/new value objects). */
  oldRole: `coalesce(details->>'old_role', old_value->>'role')`,
  newRole: `coalesce(details->>'new_role', new_value->>'role')`,
  /** The user whose permissions changed. */
  targetUser: `coalesce(details->>'target_user_id', resource_id)`,
  /** The user name tried in a failed login (a personal field, exposed by the view as `username`). */
  loginUsername: `username`,
  /** The setting a CONFIG_CHANGE changed. */
  configSetting: `coalesce(details->>'setting', resource_id)`,
  /** Before / after of a CONFIG_CHANGE. */
  configOld: `coalesce(details->'old_value', old_value)`,
  configNew: `coalesce(details->'new_value', new_value)`,
  /** Product and prices of a PRICE_CHANGE. */
  priceProduct: `coalesce(details->>'product', resource_id)`,
  priceOld: `coalesce(details->>'old_price', old_value->>'price', old_value::text)`,
  priceNew: `coalesce(details->>'new_price', new_value->>'price', new_value::text)`,
  /** The rule id of a SECURITY_ALERT event written by `alerts check --record`. */
  alertRuleId: `coalesce(details->>'rule', resource_id)`,
  /** Severity of the fired rule and the sentence saying who, how many, when (inside the evidence). */
  alertSeverity: `(details->>'alert_severity')`,
  alertMessage: `(details->'evidence'->>'message')`,
} as const;

/** SQL list literal of the admin roles, for `lower(role) IN (...)`. */
export function adminRolesSql(): string {
  return ADMIN_ROLES.map((r) => `'${r.replace(/'/g, "''")}'`).join(', ');
}
