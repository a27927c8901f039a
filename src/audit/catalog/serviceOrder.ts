/** The service-order lifecycle, from creation to visit confirmation. */
import { count, details, ident, text } from './schema';
import type { ActionSpec } from './schema';

/** Service orders: the work a driver does at a device. */
export const serviceOrderActions = {
  ORDER_CREATE: {
    category: 'service_order',
    severity: 'low',
    resourceType: 'service_order',
    description: 'A service order was created.',
    details: details({ device_id: ident, order_type: { enum: ['restock', 'repair', 'collection', 'install', 'other'] }, scheduled_for: text, items: count }, [
      'device_id',
      'order_type',
    ]),
    example: { resourceId: 'so-5012', details: { device_id: 'dev-311', order_type: 'restock', scheduled_for: '2025-01-08', items: 34 } },
  },
  ORDER_ASSIGN: {
    category: 'service_order',
    severity: 'medium',
    resourceType: 'service_order',
    description: 'A service order was assigned (or reassigned) to a driver.',
    details: details({ driver_id: ident, previous_driver_id: { anyOf: [ident, { type: 'null' }] }, driver_name: text }, ['driver_id']),
    personal: ['driver_name'],
    example: { resourceId: 'so-5012', details: { driver_id: 'u-2001', previous_driver_id: null, driver_name: 'Jo Driver' } },
  },
  ORDER_COMPLETE: {
    category: 'service_order',
    severity: 'medium',
    resourceType: 'service_order',
    description: 'A driver completed a service order.',
    details: details({ driver: ident, items_serviced: count, duration_minutes: { type: 'number', minimum: 0 }, photos_uploaded: count }, [
      'driver',
      'items_serviced',
      'duration_minutes',
      'photos_uploaded',
    ]),
    example: { resourceId: 'so-5012', details: { driver: 'u-2001', items_serviced: 31, duration_minutes: 18, photos_uploaded: 2 } },
  },
  ORDER_CANCEL: {
    category: 'service_order',
    severity: 'medium',
    resourceType: 'service_order',
    description: 'A service order was cancelled.',
    details: details({ reason: text, driver_id: ident }, ['reason']),
    example: { resourceId: 'so-5012', details: { reason: 'device decommissioned' } },
  },
  PICK_LIST_GENERATE: {
    category: 'service_order',
    severity: 'low',
    resourceType: 'pick_list',
    description: 'A pick list was generated for one or more orders.',
    details: details({ orders: count, products: count, route_id: ident }, ['orders', 'products']),
    example: { resourceId: 'pl-2025-01-08-r4', details: { orders: 12, products: 57, route_id: 'r-4' } },
  },
  PHOTO_UPLOAD: {
    category: 'service_order',
    severity: 'low',
    resourceType: 'service_order',
    description: 'A photo was attached to a service order (proof of service).',
    details: details({ file_name: text, size_bytes: count, kind: { enum: ['before', 'after', 'damage', 'other'] } }, ['file_name']),
    example: { resourceId: 'so-5012', details: { file_name: 'so-5012-after.jpg', size_bytes: 482113, kind: 'after' } },
  },
  VISIT_CONFIRM: {
    category: 'service_order',
    severity: 'low',
    resourceType: 'service_order',
    description: 'A driver confirmed being at the device.',
    details: details({ device_id: ident, driver_id: ident, method: { enum: ['gps', 'qr_scan', 'nfc', 'manual'] } }, ['device_id', 'driver_id', 'method']),
    example: { resourceId: 'so-5012', details: { device_id: 'dev-311', driver_id: 'u-2001', method: 'qr_scan' } },
  },
} as const satisfies Record<string, ActionSpec>;
