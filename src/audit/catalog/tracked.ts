/**
 * The ten actions the old audit_log already recorded, with the security level
 * the review's table gives each. Names unchanged so old rows and new rows
 * answer the same queries.
 */
import { count, details, fieldList, ident, text } from './schema';
import type { ActionSpec } from './schema';

/** Authentication, user administration and monitoring actions tracked before. */
export const trackedActions = {
  LOGIN: {
    category: 'authentication',
    severity: 'high',
    resourceType: 'user',
    description: 'A user authenticated successfully.',
    details: details({ method: { enum: ['password', 'sso', 'api_key', 'token_refresh', 'other'] }, username: text }, ['method']),
    personal: ['username'],
    example: { resourceId: 'u-1042', details: { method: 'password', username: 'maria.lopez' } },
  },
  LOGOUT: {
    category: 'authentication',
    severity: 'medium',
    resourceType: 'user',
    description: 'A user ended their session.',
    details: details({ reason: { enum: ['user', 'timeout', 'forced'] } }, []),
    example: { resourceId: 'u-1042', details: { reason: 'user' } },
  },
  PASSWORD_CHANGE: {
    category: 'authentication',
    severity: 'critical',
    resourceType: 'user',
    description: 'A password was changed (by its owner or an administrator).',
    details: details({ target_user_id: ident, self_service: { type: 'boolean' } }, ['target_user_id', 'self_service']),
    example: { resourceId: 'u-1042', details: { target_user_id: 'u-1042', self_service: true } },
  },
  PASSWORD_RESET: {
    category: 'authentication',
    severity: 'critical',
    resourceType: 'user',
    description: 'A password reset was requested or completed.',
    details: details(
      { target_user_id: ident, stage: { enum: ['requested', 'completed'] }, channel: { enum: ['email', 'sms', 'admin'] }, email: text },
      ['target_user_id', 'stage'],
    ),
    personal: ['email'],
    example: { resourceId: 'u-1042', details: { target_user_id: 'u-1042', stage: 'requested', channel: 'email', email: 'maria@example.com' } },
  },
  USER_CREATE: {
    category: 'user_management',
    severity: 'high',
    resourceType: 'user',
    description: 'A user account was created.',
    details: details({ username: text, email: text, role: text }, ['username', 'role']),
    personal: ['username', 'email'],
    example: { resourceId: 'u-2001', details: { username: 'j.driver', email: 'j.driver@example.com', role: 'driver' } },
  },
  USER_UPDATE: {
    category: 'user_management',
    severity: 'medium',
    resourceType: 'user',
    description: 'A user profile was modified (roles go through PERMISSION_CHANGE).',
    details: details({ changed_fields: fieldList }, ['changed_fields']),
    example: {
      resourceId: 'u-2001',
      details: { changed_fields: ['phone', 'display_name'] },
      oldValue: { display_name: 'J. Driver' },
      newValue: { display_name: 'Jo Driver' },
    },
  },
  VIEW_ACTIVITY_MONITOR: {
    category: 'monitoring',
    severity: 'medium',
    resourceType: 'activity_monitor',
    description: 'The activity monitor was opened.',
    details: details({ view: text }, []),
    example: { details: { view: 'alerts' } },
  },
  VIEW_USER_ACTIVITY: {
    category: 'monitoring',
    severity: 'medium',
    resourceType: 'user',
    description: "A specific user's activity was viewed.",
    details: details({ target_user_id: ident, date_range: { type: 'object' } }, ['target_user_id']),
    example: { resourceId: 'u-2001', details: { target_user_id: 'u-2001' } },
  },
  TERMINATE_SESSION: {
    category: 'user_management',
    severity: 'high',
    resourceType: 'session',
    description: "A user's session was forcibly ended.",
    details: details({ target_user_id: ident, target_session_id: text }, ['target_user_id']),
    example: { resourceId: 's-77aa', details: { target_user_id: 'u-2001', target_session_id: 's-77aa' } },
  },
  ORDER_SYNC: {
    category: 'service_order',
    severity: 'low',
    resourceType: 'service_order',
    description: 'Service orders were synchronized with an external system.',
    details: details({ source: text, orders_synced: count }, ['source', 'orders_synced']),
    affectedRecordsFrom: 'orders_synced',
    example: { details: { source: 'route-planner', orders_synced: 42 } },
  },
} as const satisfies Record<string, ActionSpec>;
