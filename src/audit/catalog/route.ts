/** Route management: who drives which stops, when. */
import { count, details, ident, text } from './schema';
import type { ActionSpec } from './schema';

/** Routes, their schedules, drivers and stops. */
export const routeActions = {
  ROUTE_ASSIGN: {
    category: 'route',
    severity: 'medium',
    resourceType: 'route',
    description: 'A route was assigned to a driver for a day.',
    details: details({ driver_id: ident, date: text, stops: count }, ['driver_id', 'date']),
    example: { resourceId: 'r-4', details: { driver_id: 'u-2001', date: '2025-01-08', stops: 14 } },
  },
  ROUTE_SCHEDULE_CHANGE: {
    category: 'route',
    severity: 'medium',
    resourceType: 'route',
    description: "A route's schedule changed.",
    details: details({ old_schedule: text, new_schedule: text }, ['old_schedule', 'new_schedule']),
    example: { resourceId: 'r-4', details: { old_schedule: 'Mon,Wed,Fri 07:00', new_schedule: 'Tue,Thu 06:30' } },
  },
  ROUTE_DRIVER_CHANGE: {
    category: 'route',
    severity: 'medium',
    resourceType: 'route',
    description: 'A route got another driver.',
    details: details({ old_driver_id: { anyOf: [ident, { type: 'null' }] }, new_driver_id: ident, reason: text }, ['old_driver_id', 'new_driver_id']),
    example: { resourceId: 'r-4', details: { old_driver_id: 'u-2001', new_driver_id: 'u-2002', reason: 'sick leave' } },
  },
  ROUTE_STOP_ADD: {
    category: 'route',
    severity: 'low',
    resourceType: 'route',
    description: 'A device was added as a stop of a route.',
    details: details({ device_id: ident, position: count }, ['device_id']),
    example: { resourceId: 'r-4', details: { device_id: 'dev-311', position: 6 } },
  },
  ROUTE_STOP_REMOVE: {
    category: 'route',
    severity: 'low',
    resourceType: 'route',
    description: 'A device was removed from a route.',
    details: details({ device_id: ident, reason: text }, ['device_id']),
    example: { resourceId: 'r-4', details: { device_id: 'dev-311', reason: 'device moved' } },
  },
} as const satisfies Record<string, ActionSpec>;
