/** Devices (vending machines): CRUD, cabinets, location and status; each change is an audit event with before/after. */
import { audit } from 'cvd-activity';
import type { Auth } from './auth';
import type { Device, Fleet } from './fleet';
import { found, num, objectBody, oneOf, str } from './input';
import type { Router } from './router';

const STATUSES = ['active', 'inactive', 'maintenance'] as const;
const TYPES = ['snack', 'drink', 'combo'] as const;
const CABINET_KINDS = ['snack', 'drink', 'fresh'] as const;

/** Registers the device routes. */
export function deviceRoutes(router: Router, fleet: Fleet, auth: Auth): void {
  const locationName = (d: Device): string => fleet.locations.get(d.locationId)?.name ?? d.locationId;

  router.on('GET', '/api/devices', auth.guard([], (req) => {
    const status = req.query.get('status');
    // `q`: the web UI's search box, over device name and location.
    const q = req.query.get('q')?.trim().toLowerCase();
    const list = [...fleet.devices.values()].filter((d) => (!status || d.status === status)
      && (!q || `${d.name} ${locationName(d)}`.toLowerCase().includes(q)));
    return { json: { total: list.length, devices: list.slice(0, Number(req.query.get('limit') ?? 50)) } };
  }));
  router.on('GET', '/api/devices/:id', auth.guard([], (req) => ({ json: found(fleet.devices, req.params.id, 'device') })));

  router.on('POST', '/api/devices', auth.guard(['admin', 'manager'], (req) => {
    const body = objectBody(req.body);
    const location = found(fleet.locations, str(body, 'locationId'), 'location');
    const type = oneOf(body, 'type', TYPES);
    const device: Device = {
      id: fleet.nextId('dev'), name: str(body, 'name'), type, status: 'inactive', locationId: location.id,
      cabinets: [{ id: fleet.nextId('cab'), kind: type === 'drink' ? 'drink' : 'snack', slotCount: type === 'drink' ? 12 : 24 }],
    };
    fleet.devices.set(device.id, device);
    audit.record('DEVICE_CREATE', {
      resourceType: 'device', resourceId: device.id,
      details: { device_name: device.name, location: location.name, device_type: type },
      newValue: device,
    });
    return { status: 201, json: device };
  }));

  router.on('PATCH', '/api/devices/:id', auth.guard(['admin', 'manager'], (req) => {
    const device = found(fleet.devices, req.params.id, 'device');
    const body = objectBody(req.body);
    const before = { name: device.name, type: device.type };
    if (body.name !== undefined) device.name = str(body, 'name');
    if (body.type !== undefined) device.type = oneOf(body, 'type', TYPES);
    const after = { name: device.name, type: device.type };
    const changed = (['name', 'type'] as const).filter((k) => before[k] !== after[k]);
    if (changed.length > 0) {
      audit.record('DEVICE_UPDATE', {
        resourceType: 'device', resourceId: device.id, details: { device_name: device.name, changed_fields: changed }, oldValue: before, newValue: after,
      });
    }
    return { json: device };
  }));

  router.on('DELETE', '/api/devices/:id', auth.guard(['admin'], (req) => {
    const device = found(fleet.devices, req.params.id, 'device');
    fleet.devices.delete(device.id);
    audit.record('DEVICE_DELETE', {
      resourceType: 'device', resourceId: device.id,
      details: { device_name: device.name, location: locationName(device) }, oldValue: device,
    });
    return { status: 204, body: '', headers: {} };
  }));

  router.on('PUT', '/api/devices/:id/cabinets/:cabinetId', auth.guard(['admin', 'manager'], (req) => {
    const device = found(fleet.devices, req.params.id, 'device');
    const body = objectBody(req.body);
    const cabinet = device.cabinets.find((c) => c.id === req.params.cabinetId);
    const before = cabinet ? { ...cabinet } : null;
    const after = { id: req.params.cabinetId, kind: oneOf(body, 'kind', CABINET_KINDS), slotCount: num(body, 'slotCount', 1, 60) };
    if (cabinet) Object.assign(cabinet, after);
    else device.cabinets.push(after);
    audit.record('CABINET_UPDATE', {
      resourceType: 'cabinet', resourceId: `${device.id}/${after.id}`,
      details: { device_id: device.id, cabinet: after.id, change: cabinet ? 'reconfigured' : 'added' },
      oldValue: before, newValue: after,
    });
    return { json: device };
  }));

  router.on('PUT', '/api/devices/:id/location', auth.guard(['admin', 'manager'], (req) => {
    const device = found(fleet.devices, req.params.id, 'device');
    const location = found(fleet.locations, str(objectBody(req.body), 'locationId'), 'location');
    const before = locationName(device);
    device.locationId = location.id;
    audit.record('DEVICE_LOCATION_UPDATE', {
      resourceType: 'device', resourceId: device.id,
      details: { device_name: device.name, old_location: before, new_location: location.name },
      oldValue: { location: before }, newValue: { location: location.name },
    });
    return { json: device };
  }));

  router.on('PUT', '/api/devices/:id/status', auth.guard(['admin', 'manager', 'driver'], (req) => {
    const device = found(fleet.devices, req.params.id, 'device');
    const status = oneOf(objectBody(req.body), 'status', STATUSES);
    const before = device.status;
    device.status = status;
    audit.record('DEVICE_STATUS_CHANGE', {
      resourceType: 'device', resourceId: device.id,
      details: { device_name: device.name, old_status: before, new_status: status },
      oldValue: { status: before }, newValue: { status },
    });
    return { json: device };
  }));
}
