/** Delivery routes: which driver drives which stops on which weekday. */
import { audit } from 'cvd-activity';
import type { Auth } from './auth';
import type { Fleet } from './fleet';
import { conflict, found, num, objectBody, oneOf, str } from './input';
import type { Router } from './router';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Registers the route and stop routes. */
export function deliveryRouteRoutes(router: Router, fleet: Fleet, auth: Auth): void {
  const planners = ['admin', 'manager'];

  router.on('GET', '/api/routes', auth.guard([], () => ({ json: [...fleet.routes.values()] })));

  router.on('PUT', '/api/routes/:id/driver', auth.guard(planners, (req) => {
    const route = found(fleet.routes, req.params.id, 'route');
    const driver = found(fleet.drivers, str(objectBody(req.body), 'driverId'), 'driver');
    const before = route.driverId;
    route.driverId = driver.id;
    audit.record('ROUTE_DRIVER_CHANGE', {
      resourceType: 'route', resourceId: route.id,
      details: { old_driver_id: before, new_driver_id: driver.id },
      oldValue: { driver_id: before }, newValue: { driver_id: driver.id },
    });
    return { json: route };
  }));

  router.on('PUT', '/api/routes/:id/schedule', auth.guard(planners, (req) => {
    const route = found(fleet.routes, req.params.id, 'route');
    const weekday = oneOf(objectBody(req.body), 'weekday', WEEKDAYS);
    const before = route.weekday;
    route.weekday = weekday;
    audit.record('ROUTE_SCHEDULE_CHANGE', {
      resourceType: 'route', resourceId: route.id,
      details: { old_schedule: before, new_schedule: weekday },
      oldValue: { weekday: before }, newValue: { weekday },
    });
    return { json: route };
  }));

  router.on('POST', '/api/routes/:id/stops', auth.guard(planners, (req) => {
    const route = found(fleet.routes, req.params.id, 'route');
    const body = objectBody(req.body);
    const device = found(fleet.devices, str(body, 'deviceId'), 'device');
    if (route.stops.some((s) => s.deviceId === device.id)) conflict(`device ${device.id} is already a stop of route ${route.id}`);
    const position = num(body, 'position', 1, route.stops.length + 1);
    const before = route.stops.map((s) => s.deviceId);
    route.stops.splice(position - 1, 0, { deviceId: device.id, position });
    route.stops.forEach((s, i) => (s.position = i + 1));
    audit.record('ROUTE_STOP_ADD', {
      resourceType: 'route', resourceId: route.id,
      details: { device_id: device.id, position },
      oldValue: { stops: before }, newValue: { stops: route.stops.map((s) => s.deviceId) },
    });
    return { status: 201, json: route };
  }));

  router.on('DELETE', '/api/routes/:id/stops/:deviceId', auth.guard(planners, (req) => {
    const route = found(fleet.routes, req.params.id, 'route');
    const index = route.stops.findIndex((s) => s.deviceId === req.params.deviceId);
    if (index < 0) conflict(`device ${req.params.deviceId} is not a stop of route ${route.id}`);
    const before = route.stops.map((s) => s.deviceId);
    route.stops.splice(index, 1);
    route.stops.forEach((s, i) => (s.position = i + 1));
    audit.record('ROUTE_STOP_REMOVE', {
      resourceType: 'route', resourceId: route.id,
      details: { device_id: req.params.deviceId },
      oldValue: { stops: before }, newValue: { stops: route.stops.map((s) => s.deviceId) },
    });
    return { status: 204, body: '', headers: {} };
  }));
}
