/**
 * The action catalog: every action `audit.record()` knows, built once from the
 * group files. This object is the single source of truth: ajv compiles its
 * schemas, `DetailsOf` derives the TypeScript types from it, and the docs
 * (docs/audit-events.md) and dashboards are generated from it.
 */
import { deviceActions } from './device';
import { financialActions } from './financial';
import { planogramActions } from './planogram';
import { productActions } from './product';
import { routeActions } from './route';
import { securityActions } from './security';
import { serviceOrderActions } from './serviceOrder';
import { trackedActions } from './tracked';
import type { ActionSpec, FromSchema } from './schema';

/** Every built-in action, by name, in the order the docs list them (deeply frozen: it is public). */
export const builtinCatalog = deepFreeze({
  ...trackedActions,
  ...deviceActions,
  ...planogramActions,
  ...serviceOrderActions,
  ...productActions,
  ...financialActions,
  ...routeActions,
  ...securityActions,
} as const);

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** The groups as the docs present them (title → actions). */
export const catalogGroups: ReadonlyArray<{ title: string; actions: Readonly<Record<string, ActionSpec>> }> = [
  { title: 'Already tracked (the review’s audit table)', actions: trackedActions },
  { title: 'Device management', actions: deviceActions },
  { title: 'Planogram', actions: planogramActions },
  { title: 'Service orders', actions: serviceOrderActions },
  { title: 'Products and inventory', actions: productActions },
  { title: 'Financial', actions: financialActions },
  { title: 'Routes', actions: routeActions },
  { title: 'Security', actions: securityActions },
];

/**
 * Names people will reach for that the catalog deliberately does not define,
 * with the action to use instead; `record()` names it in its error.
 */
export const actionHints: Readonly<Record<string, string>> = {
  PRODUCT_PRICE_CHANGE: 'PRICE_CHANGE (one action per fact: the review names the same change twice)',
  PRODUCT_PLACEMENT: 'PLANOGRAM_UPDATE (the review’s slot / old product / new product / par level example)',
  PLANOGRAM_PRODUCT_PLACE: 'PLANOGRAM_UPDATE',
  STOCK_ADJUST: 'INVENTORY_ADJUST (corrections) or STOCK_UPDATE (fill levels while servicing)',
  EXPORT: 'DATA_EXPORT or REVENUE_EXPORT',
  ROLE_CHANGE: 'PERMISSION_CHANGE',
  LOGIN_FAILURE: 'LOGIN_FAILED (or audit.loginFailed(), which counts attempts)',
};

/**
 * Actions an app adds with `audit.defineAction()`, for `record()`'s types:
 * augment this interface (`declare module 'cvd-activity' { interface CustomAuditActions { MY_ACTION: { field: string } } }`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface CustomAuditActions {}

type Builtin = typeof builtinCatalog;

/** Name of a built-in action. */
export type BuiltinActionName = keyof Builtin;

/** Any action `record()` accepts at compile time. */
export type ActionName = BuiltinActionName | (keyof CustomAuditActions & string);

/** The `details` type of action `A`, derived from its schema. */
export type DetailsOf<A extends ActionName> = A extends BuiltinActionName
  ? FromSchema<Builtin[A]['details']>
  : A extends keyof CustomAuditActions
    ? CustomAuditActions[A]
    : never;

// Compile-time proof that every example in the catalog fits its own schema's
// type: an action whose example does not type-checks names itself here.
type ExampleMismatch = {
  [A in BuiltinActionName]: Builtin[A]['example']['details'] extends DetailsOf<A> ? never : A;
}[BuiltinActionName];
const examplesFitTheirTypes: [ExampleMismatch] extends [never] ? true : ExampleMismatch = true;
void examplesFitTheirTypes;
