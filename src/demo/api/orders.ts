/** Service orders: create, assign to a driver, photos, complete, cancel, and the warehouse pick list. */
import { audit } from 'cvd-activity';
import type { Auth } from './auth';
import type { Fleet, ServiceOrder } from './fleet';
import { conflict, found, num, objectBody, str } from './input';
import type { Router } from './router';

/** Registers the service-order routes. */
export function orderRoutes(router: Router, fleet: Fleet, auth: Auth): void {
  const open = (order: ServiceOrder, ...allowed: ServiceOrder['status'][]): void => {
    if (!allowed.includes(order.status)) conflict(`service order ${order.id} is ${order.status}; needs ${allowed.join(' or ')}`);
  };

  router.on('GET', '/api/service-orders', auth.guard([], (req) => {
    const status = req.query.get('status');
    const list = [...fleet.orders.values()].filter((o) => !status || o.status === status);
    return { json: { total: list.length, orders: list.slice(-50) } };
  }));

  router.on('POST', '/api/service-orders', auth.guard(['admin', 'manager'], (req) => {
    const device = found(fleet.devices, str(objectBody(req.body), 'deviceId'), 'device');
    const planogram = [...fleet.planograms.values()].find((p) => p.deviceId === device.id);
    const items = (planogram?.slots ?? []).slice(0, 6).map((s) => ({ productId: s.productId, quantity: Math.max(1, s.parLevel - 3) }));
    const order: ServiceOrder = {
      id: fleet.nextId('so'), deviceId: device.id, status: 'open', driverId: null, items, photos: [], createdAt: new Date().toISOString(),
    };
    fleet.orders.set(order.id, order);
    audit.record('ORDER_CREATE', {
      resourceType: 'service_order', resourceId: order.id,
      details: { device_id: device.id, order_type: 'restock', items: items.length }, newValue: order,
    });
    return { status: 201, json: order };
  }));

  router.on('PUT', '/api/service-orders/:id/assign', auth.guard(['admin', 'manager'], (req) => {
    const order = found(fleet.orders, req.params.id, 'service order');
    open(order, 'open', 'assigned');
    const driver = found(fleet.drivers, str(objectBody(req.body), 'driverId'), 'driver');
    const before = order.driverId;
    order.driverId = driver.id;
    order.status = 'assigned';
    audit.record('ORDER_ASSIGN', {
      resourceType: 'service_order', resourceId: order.id,
      details: { driver_id: driver.id, previous_driver_id: before, driver_name: driver.name },
      oldValue: { driver_id: before }, newValue: { driver_id: driver.id },
    });
    return { json: order };
  }));

  router.on('POST', '/api/service-orders/:id/photos', auth.guard(['driver', 'admin'], (req) => {
    const order = found(fleet.orders, req.params.id, 'service order');
    open(order, 'assigned');
    const fileName = req.query.get('name') ?? `photo-${order.photos.length + 1}.jpg`;
    const sizeBytes = typeof req.body === 'string' ? Buffer.byteLength(req.body) : 0;
    order.photos.push(fileName);
    audit.record('PHOTO_UPLOAD', {
      resourceType: 'service_order', resourceId: order.id,
      details: { file_name: fileName, size_bytes: sizeBytes, kind: 'after' },
    });
    return { status: 201, json: { order: order.id, photos: order.photos.length } };
  }));

  router.on('POST', '/api/service-orders/:id/complete', auth.guard(['driver', 'admin'], (req) => {
    const order = found(fleet.orders, req.params.id, 'service order');
    open(order, 'assigned');
    const body = objectBody(req.body);
    const duration = num(body, 'durationMinutes', 0, 24 * 60);
    const serviced = order.items.reduce((n, i) => n + i.quantity, 0);
    for (const item of order.items) fleet.inventory.set(item.productId, (fleet.inventory.get(item.productId) ?? 0) - item.quantity);
    order.status = 'completed';
    audit.record('ORDER_COMPLETE', {
      resourceType: 'service_order', resourceId: order.id,
      details: { driver: order.driverId ?? 'unassigned', items_serviced: serviced, duration_minutes: duration, photos_uploaded: order.photos.length },
      oldValue: { status: 'assigned' }, newValue: { status: 'completed' },
    });
    return { json: order };
  }));

  router.on('POST', '/api/service-orders/:id/cancel', auth.guard(['admin', 'manager'], (req) => {
    const order = found(fleet.orders, req.params.id, 'service order');
    open(order, 'open', 'assigned');
    const reason = str(objectBody(req.body), 'reason');
    const before = order.status;
    order.status = 'cancelled';
    audit.record('ORDER_CANCEL', {
      resourceType: 'service_order', resourceId: order.id,
      details: order.driverId ? { reason, driver_id: order.driverId } : { reason }, oldValue: { status: before }, newValue: { status: 'cancelled' },
    });
    return { json: order };
  }));

  router.on('GET', '/api/service-orders/:id/pick-list', auth.guard(['driver', 'admin', 'manager'], (req) => {
    const order = found(fleet.orders, req.params.id, 'service order');
    const lines = order.items.map((i) => ({ product: fleet.products.get(i.productId)?.name ?? i.productId, quantity: i.quantity }));
    audit.record('PICK_LIST_GENERATE', {
      resourceType: 'service_order', resourceId: order.id,
      details: { orders: 1, products: lines.length },
    });
    return { json: { order: order.id, lines } };
  }));
}
