/** The business operations the simulator performs, one request sequence each, and the four incidents. */
import type { Actor, Client } from './client';

type People = Record<'alice' | 'mona' | 'victor' | 'dan' | 'dora' | 'diego', Actor>;

const DRIVERS: Array<[keyof People, string]> = [['dan', 'drv-0001'], ['dora', 'drv-0002'], ['diego', 'drv-0003']];
const id = (prefix: string, n: number): string => `${prefix}-${String(n).padStart(4, '0')}`;

/** Operations bound to a client, its actors and a random source. */
export function operations(client: Client, people: People, rand: () => number) {
  const int = (n: number): number => Math.floor(rand() * n);
  const device = (): string => id('dev', 1 + int(150));
  const product = (): string => id('prd', 1 + int(24));
  // Names made from a counter never repeat, so every update really changes something (and is audited).
  let serial = 0;
  const manager = (): Actor => (rand() < 0.5 ? people.alice : people.mona);
  const incidents = {
    bruteForce: { ip: '', username: '', attempts: 0 },
    largeExport: { records: 0, bytes: 0 },
    escalation: { user: 'victor', from: 'viewer', to: 'admin' },
    bulkUpdate: { records: 0 },
  };

  // A driver's visit: order created and assigned by the office, pick list, photos, completion.
  async function serviceVisit(): Promise<void> {
    const [who, driverId] = DRIVERS[int(DRIVERS.length)];
    const driver = people[who];
    const office = manager();
    const created = await client.send(office, 'POST', '/api/service-orders', { json: { deviceId: device() }, audit: 'ORDER_CREATE' });
    const orderId = (created.body as { id?: string } | null)?.id;
    if (!orderId) return;
    await client.send(office, 'PUT', `/api/service-orders/${orderId}/assign`, { json: { driverId }, audit: 'ORDER_ASSIGN' });
    if (rand() < 0.1) {
      await client.send(office, 'POST', `/api/service-orders/${orderId}/cancel`, { json: { reason: 'machine unreachable' }, audit: 'ORDER_CANCEL' });
      return;
    }
    await client.send(driver, 'GET', `/api/service-orders/${orderId}/pick-list`, { audit: 'PICK_LIST_GENERATE' });
    for (let p = 0; p < 1 + int(3); p++) {
      await client.send(driver, 'POST', `/api/service-orders/${orderId}/photos?name=visit-${orderId}-${p + 1}.jpg`, {
        text: 'JFIF'.repeat(2000), contentType: 'image/jpeg', audit: 'PHOTO_UPLOAD',
      });
    }
    await client.send(driver, 'POST', `/api/service-orders/${orderId}/complete`, { json: { durationMinutes: 10 + int(30) }, audit: 'ORDER_COMPLETE' });
  }

  const dex = (machineSerial: string): string =>
    ['DXS*CVD0000001*VA*V0/6*1', 'ST*001*0001', `ID1*${machineSerial}*VM-X*1234`, ...Array.from({ length: 6 }, (_, i) => `PA1*${10 + i}*${150 + i * 20}\nPA2*${int(30)}*${int(5000)}`), 'SE*20*0001', 'DXE*1*1'].join('\n');

  // Weighted: most of a day is drivers working; the office changes things now and then.
  const weighted: Array<[number, () => Promise<unknown>]> = [
    [30, serviceVisit],
    [10, () => client.send(manager(), 'GET', `/api/devices?status=active`)],
    [8, () => client.send(manager(), 'PUT', `/api/products/${product()}/price`, { json: { priceCents: 100 + int(300) }, audit: 'PRICE_CHANGE' })],
    [8, () => client.send(manager(), 'PUT', `/api/planograms/${id('pln', 1 + int(150))}/slots/A${1 + int(6)}`, { json: { productId: product() }, audit: 'PLANOGRAM_UPDATE' })],
    [6, () => client.send(manager(), 'PUT', `/api/planograms/${id('pln', 1 + int(150))}/slots/B${1 + int(6)}/par-level`, { json: { parLevel: 4 + int(8) }, audit: 'PAR_LEVEL_CHANGE' })],
    [3, () => client.send(manager(), 'POST', `/api/planograms/${id('pln', 1 + int(150))}/optimize/apply`, { audit: 'PLANOGRAM_OPTIMIZE' })],
    [1, () => client.send(people.alice, 'PUT', `/api/planogram-templates/${id('tpl', 1 + int(3))}`, { json: { name: `Template rev ${int(100)}` }, audit: 'PLANOGRAM_TEMPLATE_UPDATE' })],
    [6, () => client.send(people[DRIVERS[int(3)][0]], 'PUT', `/api/devices/${device()}/status`, { json: { status: rand() < 0.7 ? 'active' : 'maintenance' }, audit: 'DEVICE_STATUS_CHANGE' })],
    [5, () => client.send(people[DRIVERS[int(3)][0]], 'POST', `/api/inventory/${product()}/adjust`, { json: { delta: int(40) - 20, reason: 'recount' }, audit: 'INVENTORY_ADJUST' })],
    [5, () => client.send(people[DRIVERS[int(3)][0]], 'POST', `/api/dex?file=VM-${1000 + int(150)}-${int(1000)}.dex`, { text: dex(`SN${int(99999)}`), audit: 'DEX_UPLOAD' })],
    [4, () => client.send(manager(), 'GET', `/api/reports/sales?from=2026-11-01&to=2026-11-07`, { audit: 'SALES_REPORT_VIEW' })],
    [2, () => client.send(manager(), 'GET', `/api/reports/sales/export?format=${rand() < 0.5 ? 'csv' : 'pdf'}&from=2026-11-01&to=2026-11-03`, { audit: 'DATA_EXPORT' })],
    [2, () => client.send(people.alice, 'POST', '/api/devices', { json: { name: `VM-N${int(9999)}`, locationId: id('loc', 1 + int(10)), type: 'combo' }, audit: 'DEVICE_CREATE' })],
    [2, () => client.send(manager(), 'PATCH', `/api/devices/${device()}`, { json: { name: `VM-R${++serial}` }, audit: 'DEVICE_UPDATE' })],
    [2, () => client.send(manager(), 'PUT', `/api/devices/${device()}/location`, { json: { locationId: id('loc', 1 + int(10)) }, audit: 'DEVICE_LOCATION_UPDATE' })],
    [1, () => client.send(manager(), 'PUT', `/api/devices/${device()}/cabinets/cab-x${int(9)}`, { json: { kind: 'fresh', slotCount: 8 }, audit: 'CABINET_UPDATE' })],
    [1, () => client.send(people.alice, 'DELETE', `/api/devices/${id('dev', 151 + int(29))}`, { audit: 'DEVICE_DELETE' })],
    [1, () => client.send(manager(), 'PATCH', `/api/products/${product()}`, { json: { name: `Product rev ${++serial}` }, audit: 'PRODUCT_UPDATE' })],
    [1, () => client.send(manager(), 'PATCH', `/api/products/${product()}`, { json: { category: `promo-${++serial}` }, audit: 'CATEGORY_CHANGE' })],
    [1, () => client.send(manager(), 'POST', '/api/products', { json: { name: `Seasonal ${++serial}`, category: 'candy', priceCents: 199 }, audit: 'PRODUCT_CREATE' })],
    [2, () => client.send(manager(), 'PUT', `/api/routes/${id('rte', 1 + int(5))}/driver`, { json: { driverId: DRIVERS[int(3)][1] }, audit: 'ROUTE_DRIVER_CHANGE' })],
    [1, () => client.send(manager(), 'PUT', `/api/routes/${id('rte', 1 + int(5))}/schedule`, { json: { weekday: ['mon', 'tue', 'wed', 'thu', 'fri'][int(5)] }, audit: 'ROUTE_SCHEDULE_CHANGE' })],
    [1, () => client.send(manager(), 'POST', `/api/routes/${id('rte', 1 + int(5))}/stops`, { json: { deviceId: device(), position: 1 }, audit: 'ROUTE_STOP_ADD' })],
    [1, () => client.send(people.alice, 'PUT', '/api/settings/low_stock_threshold', { json: { value: 3 + int(5) }, audit: 'CONFIG_CHANGE' })],
    [2, () => client.send(people.victor, 'GET', '/api/devices/' + device())],
    // Refused (403) while Victor is a viewer; after his escalation to admin it goes through, and is audited.
    [1, () => client.send(people.victor, 'PUT', `/api/products/${product()}/price`, { json: { priceCents: 99 }, audit: 'PRICE_CHANGE' })],
  ];
  const total = weighted.reduce((n, [w]) => n + w, 0);

  return {
    incidents,
    /** One weighted-random business operation. */
    async next(): Promise<void> {
      let r = rand() * total;
      for (const [weight, op] of weighted) {
        if ((r -= weight) < 0) return void (await op());
      }
    },
    /** `attempts` wrong passwords for `username` from `ip`, back to back. */
    async bruteForce(ip: string, username: string, attempts: number): Promise<void> {
      const attacker: Actor = { name: 'attacker', ip, userAgent: 'python-requests/2.32' };
      for (let i = 0; i < attempts; i++) {
        await client.send(attacker, 'POST', '/api/auth/login', { json: { username, password: `guess-${i}` }, auditOnFailure: 'LOGIN_FAILED' });
      }
      incidents.bruteForce = { ip, username, attempts };
    },
    /** Every device put into maintenance and back: two bulk operations over the whole fleet. */
    async bulkUpdate(): Promise<void> {
      const res = await client.send(people.alice, 'POST', '/api/bulk/device-status', { json: { status: 'maintenance' }, audit: 'BULK_OPERATION' });
      await client.send(people.alice, 'POST', '/api/bulk/device-status', { json: { status: 'active' }, audit: 'BULK_OPERATION' });
      incidents.bulkUpdate = { records: (res.body as { updated?: number } | null)?.updated ?? 0 };
    },
    /** A quarter of sales as CSV: more than 10,000 rows. */
    async largeExport(): Promise<void> {
      const res = await client.send(people.mona, 'GET', '/api/reports/sales/export?format=csv&from=2026-08-01&to=2026-10-31', { audit: 'DATA_EXPORT' });
      const text = typeof res.body === 'string' ? res.body : '';
      incidents.largeExport = { records: Math.max(0, text.split('\n').length - 2), bytes: Buffer.byteLength(text) };
    },
    /** Alice makes Victor, a viewer, an admin; Victor signs in again and changes a setting. */
    async escalate(): Promise<void> {
      await client.send(people.alice, 'PUT', '/api/users/usr-0006/roles', { json: { role: 'admin' }, audit: 'PERMISSION_CHANGE' });
      await client.send(people.victor, 'POST', '/api/auth/logout', { audit: 'LOGOUT' });
      const res = await client.send(people.victor, 'POST', '/api/auth/login', { json: { username: 'victor', password: 'victor-demo' }, audit: 'LOGIN' });
      people.victor.token = (res.body as { token?: string } | null)?.token;
      await client.send(people.victor, 'PUT', '/api/settings/session_timeout_minutes', { json: { value: 480 }, audit: 'CONFIG_CHANGE' });
    },
  };
}
