/**
 * The JSON Schema subset the action catalog is written in, and `FromSchema`,
 * the mapped type that turns one of those `as const` schemas into the
 * TypeScript type `audit.record()` accepts. One object serves ajv at run time
 * and the compiler at build time, so the two can never disagree.
 */
import type { AuditSeverity } from '../types';

/** A JSON Schema as the catalog writes it (what FromSchema understands). */
export interface JsonSchema {
  readonly type?: JsonType | readonly JsonType[];
  readonly properties?: { readonly [key: string]: JsonSchema };
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly anyOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
  readonly description?: string;
}

/** JSON Schema type names. */
export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** The schema of an action's `details`: always a closed object, so a misspelt field is an error. */
export interface DetailsSchema extends JsonSchema {
  readonly type: 'object';
  readonly properties: { readonly [key: string]: JsonSchema };
  readonly required: readonly string[];
  readonly additionalProperties: false;
}

/** One action of the catalog (its name is its key). */
export interface ActionSpec {
  /** Group used by dashboards and retention (device, planogram, security, …). */
  readonly category: string;
  /** Security level, as in the review's audit table. */
  readonly severity: AuditSeverity;
  /** Default `resourceType` when `record()` is given none; null for actions on no resource. */
  readonly resourceType: string | null;
  /** One line: what happened, for docs and dashboards. */
  readonly description: string;
  readonly details: DetailsSchema;
  /** Detail fields holding personal data; moved from `details` into `personal.fields`. */
  readonly personal?: readonly string[];
  /** Detail field whose number becomes `affectedRecords` when the call gives none. */
  readonly affectedRecordsFrom?: string;
  /** Detail field naming a setting; when that name looks secret, `old_value`/`new_value` are redacted too. */
  readonly secretNameField?: string;
  /** A valid `record()` call; the docs, the demo and the tests reuse it. */
  readonly example: ActionExample;
}

/** A complete example call of one action. */
export interface ActionExample {
  readonly resourceId?: string;
  readonly details: { readonly [key: string]: unknown };
  readonly oldValue?: unknown;
  readonly newValue?: unknown;
  readonly affectedRecords?: number;
}

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type FromType<T, S> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? S extends { readonly items: infer I }
            ? readonly FromSchema<I>[]
            : readonly unknown[]
          : T extends 'object'
            ? FromObject<S>
            : never;

type RequiredKeys<S> = S extends { readonly required: readonly (infer R)[] } ? R & string : never;

type FromObject<S> = S extends { readonly properties: infer P }
  ? Simplify<
      { -readonly [K in keyof P & RequiredKeys<S>]: FromSchema<P[K]> } & {
        -readonly [K in Exclude<keyof P, RequiredKeys<S>>]?: FromSchema<P[K]>;
      } & (S extends { readonly additionalProperties: false } ? unknown : { [key: string]: unknown })
    >
  : { [key: string]: unknown };

/** The TypeScript type of values valid under the `as const` schema `S`. */
export type FromSchema<S> = S extends { readonly const: infer C }
  ? C
  : S extends { readonly enum: readonly (infer E)[] }
    ? E
    : S extends { readonly anyOf: readonly (infer U)[] }
      ? U extends unknown
        ? FromSchema<U>
        : never
      : S extends { readonly type: readonly (infer T)[] }
        ? T extends unknown
          ? FromType<T, S>
          : never
        : S extends { readonly type: infer T }
          ? FromType<T, S>
          : unknown;

/** A closed object schema for `details`; `const` keeps every literal for FromSchema. */
export function details<const P extends { readonly [key: string]: JsonSchema }, const R extends readonly (keyof P & string)[]>(
  properties: P,
  required: R,
): { readonly type: 'object'; readonly properties: P; readonly required: R; readonly additionalProperties: false } {
  return { type: 'object', properties, required, additionalProperties: false };
}

// Building blocks shared by the catalog groups. Limits keep a runaway value
// from becoming an audit row; they are generous on purpose.

/** A non-empty name or label. */
export const text = { type: 'string', minLength: 1, maxLength: 1024 } as const;
/** An identifier as apps have them: a string or an integer. */
export const ident = { type: ['string', 'integer'] } as const;
/** A count (records, items, attempts). */
export const count = { type: 'integer', minimum: 0 } as const;
/** Money: a non-negative amount in the currency's major unit. */
export const money = { type: 'number', minimum: 0 } as const;
/** Any JSON value (old/new setting values). */
export const anyValue = {} as const;
/** Free-form filters or evidence: an object of anything. */
export const looseObject = { type: 'object' } as const;
/** A list of field names that changed. */
export const fieldList = { type: 'array', items: text, minItems: 1 } as const;
/** A date range, ISO dates or timestamps. */
export const dateRange = details({ from: text, to: text }, ['from', 'to']);
/** Export and download formats. */
export const fileFormat = { enum: ['csv', 'xlsx', 'pdf', 'json', 'xml', 'zip', 'other'] } as const;
