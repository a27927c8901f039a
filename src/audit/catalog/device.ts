/** Device management: the review's first untracked group. */
import { details, fieldList, ident, text } from './schema';
import type { ActionSpec } from './schema';

const deviceStatus = { enum: ['active', 'inactive', 'maintenance', 'decommissioned'] } as const;

/** Vending devices (machines) and their cabinets. */
export const deviceActions = {
  DEVICE_CREATE: {
    category: 'device',
    severity: 'medium',
    resourceType: 'device',
    description: 'A device was added.',
    details: details({ device_name: text, location: text, device_type: text }, ['device_name', 'location', 'device_type']),
    example: { resourceId: 'dev-311', details: { device_name: 'Lobby Snack 2', location: 'HQ Building A, Lobby', device_type: 'snack' } },
  },
  DEVICE_UPDATE: {
    category: 'device',
    severity: 'medium',
    resourceType: 'device',
    description: "A device's configuration changed (before/after in oldValue/newValue).",
    details: details({ device_name: text, changed_fields: fieldList }, ['device_name', 'changed_fields']),
    example: {
      resourceId: 'dev-311',
      details: { device_name: 'Lobby Snack 2', changed_fields: ['telemetry_interval'] },
      oldValue: { telemetry_interval: 300 },
      newValue: { telemetry_interval: 60 },
    },
  },
  DEVICE_DELETE: {
    category: 'device',
    severity: 'high',
    resourceType: 'device',
    description: 'A device was removed.',
    details: details({ device_name: text, location: text, reason: text }, ['device_name']),
    example: { resourceId: 'dev-311', details: { device_name: 'Lobby Snack 2', location: 'HQ Building A, Lobby', reason: 'replaced' } },
  },
  CABINET_UPDATE: {
    category: 'device',
    severity: 'medium',
    resourceType: 'cabinet',
    description: "A device's cabinet was added, removed or reconfigured.",
    details: details(
      { device_id: ident, cabinet: ident, change: { enum: ['added', 'removed', 'reconfigured'] }, changed_fields: fieldList },
      ['device_id', 'cabinet', 'change'],
    ),
    example: { resourceId: 'dev-311/cab-2', details: { device_id: 'dev-311', cabinet: 2, change: 'reconfigured', changed_fields: ['rows'] } },
  },
  DEVICE_LOCATION_UPDATE: {
    category: 'device',
    severity: 'medium',
    resourceType: 'device',
    description: 'A device moved to another location.',
    details: details({ device_name: text, old_location: text, new_location: text }, ['device_name', 'old_location', 'new_location']),
    example: {
      resourceId: 'dev-311',
      details: { device_name: 'Lobby Snack 2', old_location: 'HQ Building A, Lobby', new_location: 'HQ Building B, Floor 3' },
    },
  },
  DEVICE_STATUS_CHANGE: {
    category: 'device',
    severity: 'medium',
    resourceType: 'device',
    description: 'A device was activated, deactivated or sent to maintenance.',
    details: details({ device_name: text, old_status: deviceStatus, new_status: deviceStatus, reason: text }, [
      'device_name',
      'old_status',
      'new_status',
    ]),
    example: { resourceId: 'dev-311', details: { device_name: 'Lobby Snack 2', old_status: 'active', new_status: 'maintenance', reason: 'coin jam' } },
  },
} as const satisfies Record<string, ActionSpec>;
