/** Administration: user roles, system settings, bulk updates and the activity monitor the dashboard polls. */
import { audit } from 'cvd-activity';
import type { Auth } from './auth';
import type { Device, Fleet } from './fleet';
import { found, num, objectBody, oneOf, str } from './input';
import { HttpError, type Router } from './router';

const ROLES = ['admin', 'manager', 'driver', 'viewer'] as const;

/** Registers the admin routes. */
export function adminRoutes(router: Router, fleet: Fleet, auth: Auth): void {
  router.on('GET', '/api/users', auth.guard(['admin'], () => ({
    json: [...fleet.users.values()].map(({ id, username, name, roles }) => ({ id, username, name, roles })),
  })));

  router.on('PUT', '/api/users/:id/roles', auth.guard(['admin'], (req) => {
    const target = found(fleet.users, req.params.id, 'user');
    const role = oneOf(objectBody(req.body), 'role', ROLES);
    const before = target.roles.join(',');
    target.roles = [role];
    audit.record('PERMISSION_CHANGE', {
      resourceType: 'user', resourceId: target.id,
      details: { target_user_id: target.username, old_role: before, new_role: role },
      oldValue: { roles: before.split(',') }, newValue: { roles: target.roles },
    });
    return { json: { id: target.id, username: target.username, roles: target.roles } };
  }));

  router.on('GET', '/api/settings', auth.guard(['admin'], () => ({ json: fleet.settings })));

  router.on('PUT', '/api/settings/:key', auth.guard(['admin'], (req) => {
    const key = req.params.key;
    if (!(key in fleet.settings)) throw new HttpError(404, 'NOT_FOUND', `setting ${key} does not exist; known: ${Object.keys(fleet.settings).join(', ')}`);
    const value = objectBody(req.body).value;
    if (typeof value !== typeof fleet.settings[key]) {
      throw new HttpError(400, 'INVALID_REQUEST', `setting ${key} takes a ${typeof fleet.settings[key]}, got ${JSON.stringify(value)}`);
    }
    const before = fleet.settings[key];
    fleet.settings[key] = value as string | number | boolean;
    audit.record('CONFIG_CHANGE', {
      resourceType: 'setting', resourceId: key,
      details: { setting: key, old_value: before, new_value: fleet.settings[key] },
      oldValue: { [key]: before }, newValue: { [key]: fleet.settings[key] },
    });
    return { json: { [key]: fleet.settings[key] } };
  }));

  router.on('POST', '/api/bulk/device-status', auth.guard(['admin'], (req) => {
    const body = objectBody(req.body);
    const status = oneOf(body, 'status', ['active', 'inactive', 'maintenance'] as const);
    const locationId = body.locationId === undefined ? null : str(body, 'locationId');
    const targets = [...fleet.devices.values()].filter((d) => !locationId || d.locationId === locationId);
    const before = targets.map((d) => ({ id: d.id, status: d.status }));
    targets.forEach((d: Device) => (d.status = status));
    audit.record('BULK_OPERATION', {
      resourceType: 'device',
      details: { operation: `device_status_update:${status}`, target_type: 'device', affected_records: targets.length, filters: locationId ? { locationId } : {} },
      oldValue: before, newValue: { status }, affectedRecords: targets.length,
    });
    return { json: { updated: targets.length } };
  }));

  router.on('POST', '/api/bulk/prices', auth.guard(['admin', 'manager'], (req) => {
    const body = objectBody(req.body);
    const category = str(body, 'category');
    const percent = num(body, 'percent', -50, 50);
    const targets = [...fleet.products.values()].filter((p) => p.category === category);
    const before = targets.map((p) => ({ id: p.id, price_cents: p.priceCents }));
    for (const p of targets) p.priceCents = Math.round(p.priceCents * (1 + percent / 100));
    audit.record('BULK_OPERATION', {
      resourceType: 'product',
      details: { operation: `price_update:${percent}%`, target_type: 'product', affected_records: targets.length, filters: { category } },
      oldValue: before, newValue: targets.map((p) => ({ id: p.id, price_cents: p.priceCents })), affectedRecords: targets.length,
    });
    return { json: { updated: targets.length } };
  }));

  // Opening the activity monitor is audited; the dashboard's polling of it is not (it is noise, sampled by cvd-activity).
  router.on('GET', '/api/admin/activity', auth.guard(['admin', 'manager'], () => {
    audit.record('VIEW_ACTIVITY_MONITOR', { resourceType: 'activity_monitor', details: { view: 'overview' } });
    return { json: { devices: fleet.devices.size, openOrders: [...fleet.orders.values()].filter((o) => o.status !== 'completed').length } };
  }));
  router.on('GET', '/api/admin/activity/alerts', auth.guard(['admin', 'manager'], () => {
    const lowStock = [...fleet.inventory.entries()].filter(([, n]) => n < Number(fleet.settings.low_stock_threshold) * 10);
    return { json: { alerts: lowStock.slice(0, 5).map(([productId, quantity]) => ({ type: 'low_stock', productId, quantity })) } };
  }));
}
