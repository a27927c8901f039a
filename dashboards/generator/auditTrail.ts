/** The *Audit trail* dashboard: who changed what, from PostgreSQL through the `audit_trail` view. */
import { ACTIONS, FIELDS } from '../../src/alerts/auditVocabulary';
import { ALL, Dashboard, FILTERABLE, POSTGRES, TABLE_OPTIONS, TRAIL, queryVariable, sql, textVariable, traceLinkOverride } from './grafana';

const SERVICE = `(\${service:sqlstring} = ${ALL} OR service_name = \${service:sqlstring})`;
const USER = `(\${user:sqlstring} = ${ALL} OR user_id = \${user:sqlstring})`;
const ACTION = `(\${action:sqlstring} = ${ALL} OR action = \${action:sqlstring})`;
const SEARCH =
  `(\${search:sqlstring} = '' OR concat_ws(' ', action, user_id, username, resource_type, resource_id, client_address, reason, details::text) ` +
  `ILIKE '%' || \${search:sqlstring} || '%')`;
/** Every filter of the dashboard's variables. */
const FILTERS = `$__timeFilter(created_at) AND ${SERVICE} AND ${USER} AND ${ACTION}`;

function overTime(column: string): string {
  return `
SELECT $__timeGroupAlias(created_at, $__interval), ${column} AS metric, count(*) AS value
FROM ${TRAIL}
WHERE ${FILTERS}
GROUP BY 1, 2
ORDER BY 1`;
}

const change = (before: string, after: string) =>
  `CASE WHEN (${before}) IS NULL AND (${after}) IS NULL THEN NULL ELSE concat(coalesce((${before})::text, '∅'), ' → ', coalesce((${after})::text, '∅')) END`;

const variables = [
  queryVariable('service', 'Service', POSTGRES, `SELECT DISTINCT service_name FROM ${TRAIL} WHERE $__timeFilter(created_at) ORDER BY 1`, ALL),
  queryVariable('user', 'User', POSTGRES, `SELECT DISTINCT user_id FROM ${TRAIL} WHERE $__timeFilter(created_at) AND user_id IS NOT NULL ORDER BY 1 LIMIT 1000`, ALL),
  queryVariable('action', 'Action', POSTGRES, `SELECT DISTINCT action FROM ${TRAIL} WHERE $__timeFilter(created_at) ORDER BY 1`, ALL),
  textVariable('search', 'Search'),
];

/** Builds the dashboard JSON. */
export function auditTrailDashboard(): Record<string, unknown> {
  const d = new Dashboard(
    'cvd-audit-trail',
    'cvd-activity · Audit trail',
    'Who changed what, when, from where, and with what result: every audit event in PostgreSQL (audit_trail view). Click a trace id to open the request in Tempo.',
    variables,
  );
  d.row('Volume');
  d.panel({
    title: 'Events over time by category',
    type: 'timeseries',
    description: 'How many audit events of each category (authentication, security, financial, device, …) happened, over time.',
    targets: [sql(overTime('category'), 'time_series')],
    fieldConfig: { custom: { drawStyle: 'bars', stacking: { mode: 'normal' }, fillOpacity: 80 } },
  });
  d.panel({
    title: 'Events over time by severity',
    type: 'timeseries',
    description: 'How many low / medium / high / critical events happened over time: a rise in critical events is the first thing to look at.',
    targets: [sql(overTime('severity'), 'time_series')],
    fieldConfig: { custom: { drawStyle: 'bars', stacking: { mode: 'normal' }, fillOpacity: 80 } },
  });
  d.row('Recent events');
  d.panel({
    title: 'Recent events',
    type: 'table',
    w: 24,
    h: 12,
    description:
      'The latest 500 events matching the filters and the Search box: time, user, action, resource, outcome and before → after. Click trace_id to open the request\'s trace in Tempo.',
    targets: [
      sql(`
SELECT created_at AS "time", coalesce(user_id, '(anonymous)') AS "user", action, outcome,
       concat_ws(':', resource_type, resource_id) AS resource,
       ${change('old_value', 'new_value')} AS change,
       severity, category, client_address, reason, affected_records, trace_id, event_id
FROM ${TRAIL}
WHERE ${FILTERS} AND ${SEARCH}
ORDER BY created_at DESC
LIMIT 500`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: { ...TABLE_OPTIONS, sortBy: [{ displayName: 'time', desc: true }] },
    overrides: [traceLinkOverride()],
  });
  d.row('Authentication');
  d.panel({
    title: 'Failed logins by user name',
    type: 'table',
    w: 8,
    description: 'Which user names fail to log in most (password guessing targets one name), and from how many addresses.',
    targets: [
      sql(`
SELECT coalesce(username, '(unknown)') AS username, count(*) AS failures,
       count(DISTINCT client_address) AS addresses, max(created_at) AS last_attempt
FROM ${TRAIL}
WHERE action = '${ACTIONS.loginFailed}' AND $__timeFilter(created_at) AND ${SERVICE}
GROUP BY 1 ORDER BY failures DESC LIMIT 50`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
  });
  d.panel({
    title: 'Failed logins by client address',
    type: 'table',
    w: 8,
    description: 'Which client addresses fail to log in most, and across how many user names (many names from one address is credential stuffing).',
    targets: [
      sql(`
SELECT coalesce(client_address, '(unknown)') AS client_address, count(*) AS failures,
       count(DISTINCT username) AS user_names, max(created_at) AS last_attempt
FROM ${TRAIL}
WHERE action = '${ACTIONS.loginFailed}' AND $__timeFilter(created_at) AND ${SERVICE}
GROUP BY 1 ORDER BY failures DESC LIMIT 50`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
  });
  d.panel({
    title: 'Logins and failed logins over time',
    type: 'timeseries',
    w: 8,
    description: 'Successful against failed logins over time: a wave of failures without successes is an attack, failures after a change is a broken client.',
    targets: [
      sql(
        `
SELECT $__timeGroupAlias(created_at, $__interval), action AS metric, count(*) AS value
FROM ${TRAIL}
WHERE action IN ('${ACTIONS.login}', '${ACTIONS.loginFailed}') AND $__timeFilter(created_at) AND ${SERVICE}
GROUP BY 1, 2 ORDER BY 1`,
        'time_series',
      ),
    ],
  });
  d.row('Data leaving and mass changes');
  d.panel({
    title: 'Exports by user',
    type: 'table',
    description: 'Who exported data, how often, and how many records in total and at most in one export.',
    targets: [
      sql(`
SELECT coalesce(user_id, '(anonymous)') AS "user", count(*) AS exports,
       sum(${FIELDS.exportRecordCount}) AS records, max(${FIELDS.exportRecordCount}) AS largest_export,
       string_agg(DISTINCT ${FIELDS.exportFormat}, ', ') AS formats, max(created_at) AS last_export
FROM ${TRAIL}
WHERE action = '${ACTIONS.dataExport}' AND ${FILTERS}
GROUP BY 1 ORDER BY records DESC NULLS LAST LIMIT 100`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
  });
  d.panel({
    title: 'Bulk operations',
    type: 'table',
    description: 'Every bulk operation: when, by whom, what it did and how many records it touched.',
    targets: [
      sql(`
SELECT created_at AS "time", coalesce(user_id, '(anonymous)') AS "user", ${FIELDS.bulkOperation} AS operation,
       ${FIELDS.bulkTarget} AS target_type, ${FIELDS.bulkAffected} AS affected_records, outcome, trace_id
FROM ${TRAIL}
WHERE action = '${ACTIONS.bulkOperation}' AND ${FILTERS}
ORDER BY created_at DESC LIMIT 200`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
    overrides: [traceLinkOverride()],
  });
  d.row('Changes to permissions, configuration and prices');
  d.panel({
    title: 'Permission changes',
    type: 'table',
    w: 8,
    description: 'Who changed whose role, from what to what (escalations to admin also fire an alert).',
    targets: [
      sql(`
SELECT created_at AS "time", coalesce(user_id, '(anonymous)') AS changed_by, ${FIELDS.targetUser} AS target_user,
       concat(coalesce(${FIELDS.oldRole}, '∅'), ' → ', coalesce(${FIELDS.newRole}, '∅')) AS role_change, outcome, trace_id
FROM ${TRAIL}
WHERE action = '${ACTIONS.permissionChange}' AND ${FILTERS}
ORDER BY created_at DESC LIMIT 200`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
    overrides: [traceLinkOverride()],
  });
  d.panel({
    title: 'Configuration changes',
    type: 'table',
    w: 8,
    description: 'Which settings were changed, by whom, from what value to what value.',
    targets: [
      sql(`
SELECT created_at AS "time", coalesce(user_id, '(anonymous)') AS "user", ${FIELDS.configSetting} AS setting,
       ${change(FIELDS.configOld, FIELDS.configNew)} AS change, outcome, trace_id
FROM ${TRAIL}
WHERE action = '${ACTIONS.configChange}' AND ${FILTERS}
ORDER BY created_at DESC LIMIT 200`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
    overrides: [traceLinkOverride()],
  });
  d.panel({
    title: 'Price changes',
    type: 'table',
    w: 8,
    description: 'Which product prices changed, by whom, from what price to what price.',
    targets: [
      sql(`
SELECT created_at AS "time", coalesce(user_id, '(anonymous)') AS "user", ${FIELDS.priceProduct} AS product,
       concat(coalesce(${FIELDS.priceOld}, '∅'), ' → ', coalesce(${FIELDS.priceNew}, '∅')) AS price_change, outcome, trace_id
FROM ${TRAIL}
WHERE action = '${ACTIONS.priceChange}' AND ${FILTERS}
ORDER BY created_at DESC LIMIT 200`),
    ],
    fieldConfig: { custom: FILTERABLE },
    options: TABLE_OPTIONS,
    overrides: [traceLinkOverride()],
  });
  return d.toJSON();
}
