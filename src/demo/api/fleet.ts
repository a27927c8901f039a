/**
 * The demo's in-memory world: a fleet of vending machines with their
 * locations, cabinets and planograms, the products they sell, the drivers and
 * routes that restock them, service orders, users and system settings. Built
 * from a seed so every run of the demo starts from the same state.
 */

export interface Product { id: string; name: string; category: string; priceCents: number; active: boolean }
export interface Location { id: string; name: string; address: string }
export interface Cabinet { id: string; kind: 'snack' | 'drink' | 'fresh'; slotCount: number }
export interface Device {
  id: string; name: string; type: 'snack' | 'drink' | 'combo';
  status: 'active' | 'inactive' | 'maintenance'; locationId: string; cabinets: Cabinet[];
}
export interface Slot { code: string; productId: string; parLevel: number; capacity: number }
export interface PlanogramTemplate { id: string; name: string; version: number; slotCodes: string[] }
export interface Planogram { id: string; deviceId: string; templateId: string; slots: Slot[] }
export interface OrderItem { productId: string; quantity: number }
export interface ServiceOrder {
  id: string; deviceId: string; status: 'open' | 'assigned' | 'completed' | 'cancelled';
  driverId: string | null; items: OrderItem[]; photos: string[]; createdAt: string;
}
export interface Driver { id: string; name: string; userId: string }
export interface RouteStop { deviceId: string; position: number }
export interface Route { id: string; name: string; driverId: string | null; weekday: string; stops: RouteStop[] }
export interface User { id: string; username: string; name: string; roles: string[]; password: string }

/** Everything the API serves, mutable in place. */
export interface Fleet {
  products: Map<string, Product>;
  locations: Map<string, Location>;
  devices: Map<string, Device>;
  templates: Map<string, PlanogramTemplate>;
  planograms: Map<string, Planogram>;
  orders: Map<string, ServiceOrder>;
  drivers: Map<string, Driver>;
  routes: Map<string, Route>;
  users: Map<string, User>;
  /** Warehouse stock per product id. */
  inventory: Map<string, number>;
  settings: Record<string, string | number | boolean>;
  nextId(prefix: string): string;
}

/** Small deterministic PRNG (mulberry32): same seed, same fleet, same simulation. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PRODUCTS: Array<[string, string, number]> = [
  ['Cola 0.5l', 'drinks', 250], ['Still Water 0.5l', 'drinks', 150], ['Orange Juice', 'drinks', 280],
  ['Iced Tea Lemon', 'drinks', 230], ['Energy Drink', 'drinks', 320], ['Sparkling Water', 'drinks', 160],
  ['Salted Crisps', 'snacks', 180], ['Paprika Crisps', 'snacks', 180], ['Pretzels', 'snacks', 150],
  ['Peanuts', 'snacks', 200], ['Trail Mix', 'snacks', 260], ['Popcorn', 'snacks', 170],
  ['Milk Chocolate Bar', 'candy', 190], ['Dark Chocolate Bar', 'candy', 210], ['Caramel Bar', 'candy', 200],
  ['Gummy Bears', 'candy', 160], ['Mints', 'candy', 120], ['Chewing Gum', 'candy', 110],
  ['Ham Sandwich', 'fresh', 450], ['Veggie Wrap', 'fresh', 480], ['Fruit Cup', 'fresh', 350],
  ['Yoghurt', 'fresh', 220], ['Protein Bar', 'health', 290], ['Granola Bar', 'health', 230],
];
const SITES = ['Central Station', 'City Hospital', 'Tech Campus', 'Airport Gate B', 'University Library',
  'Harbour Office Park', 'Fitness Club North', 'Mall West', 'Town Hall', 'Logistics Hub'];
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'];

/** Users of the demo; the password of each is `<username>-demo`. */
const USERS: Array<[string, string, string[]]> = [
  ['alice', 'Alice Admin', ['admin']], ['mona', 'Mona Manager', ['manager']],
  ['dan', 'Dan Driver', ['driver']], ['dora', 'Dora Driver', ['driver']], ['diego', 'Diego Driver', ['driver']],
  ['victor', 'Victor Viewer', ['viewer']], ['admin', 'Built-in Administrator', ['admin']],
];

/** Builds the fleet: `deviceCount` machines (>= 150 so a bulk update can touch more than 100). */
export function createFleet(seed = 7, deviceCount = 180): Fleet {
  const rand = prng(seed);
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)];
  const counters = new Map<string, number>();
  const nextId = (prefix: string): string => {
    const n = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, n);
    return `${prefix}-${String(n).padStart(4, '0')}`;
  };
  const fleet: Fleet = {
    products: new Map(), locations: new Map(), devices: new Map(), templates: new Map(), planograms: new Map(),
    orders: new Map(), drivers: new Map(), routes: new Map(), users: new Map(), inventory: new Map(),
    settings: { session_timeout_minutes: 30, max_login_attempts: 5, low_stock_threshold: 4, currency: 'EUR', maintenance_mode: false },
    nextId,
  };
  for (const [name, category, priceCents] of PRODUCTS) {
    const id = nextId('prd');
    fleet.products.set(id, { id, name, category, priceCents, active: true });
    fleet.inventory.set(id, 200 + Math.floor(rand() * 300));
  }
  SITES.forEach((site, i) => {
    const id = nextId('loc');
    fleet.locations.set(id, { id, name: site, address: `${10 + i * 7} Demo Street` });
  });
  const slotCodes = ['A', 'B', 'C', 'D'].flatMap((row) => [1, 2, 3, 4, 5, 6].map((col) => `${row}${col}`));
  for (const [name, size] of [['Snack 24', 24], ['Drink 12', 12], ['Combo 18', 18]] as const) {
    const id = nextId('tpl');
    fleet.templates.set(id, { id, name, version: 1, slotCodes: slotCodes.slice(0, size) });
  }
  const productIds = [...fleet.products.keys()];
  const templateIds = [...fleet.templates.keys()];
  const locationIds = [...fleet.locations.keys()];
  for (let i = 0; i < deviceCount; i++) {
    const id = nextId('dev');
    const type = pick(['snack', 'drink', 'combo'] as const);
    fleet.devices.set(id, {
      id, name: `VM-${1000 + i}`, type, status: rand() < 0.9 ? 'active' : 'maintenance', locationId: pick(locationIds),
      cabinets: [{ id: nextId('cab'), kind: type === 'drink' ? 'drink' : 'snack', slotCount: type === 'drink' ? 12 : 24 }],
    });
    const template = fleet.templates.get(templateIds[type === 'snack' ? 0 : type === 'drink' ? 1 : 2])!;
    const planogramId = nextId('pln');
    fleet.planograms.set(planogramId, {
      id: planogramId, deviceId: id, templateId: template.id,
      slots: template.slotCodes.map((code) => ({ code, productId: pick(productIds), parLevel: 6 + Math.floor(rand() * 6), capacity: 12 })),
    });
  }
  for (const [username, name, roles] of USERS) {
    const id = nextId('usr');
    fleet.users.set(id, { id, username, name, roles, password: `${username}-demo` });
    if (roles.includes('driver')) {
      const driverId = nextId('drv');
      fleet.drivers.set(driverId, { id: driverId, name, userId: id });
    }
  }
  const deviceIds = [...fleet.devices.keys()];
  const driverIds = [...fleet.drivers.keys()];
  WEEKDAYS.forEach((weekday, i) => {
    const id = nextId('rte');
    const stops = Array.from({ length: 8 }, (_, p) => ({ deviceId: deviceIds[(i * 8 + p) % deviceIds.length], position: p + 1 }));
    fleet.routes.set(id, { id, name: `Route ${weekday.toUpperCase()}`, driverId: driverIds[i % driverIds.length], weekday, stops });
  });
  return fleet;
}
