/**
 * The actions known at run time: the built-in catalog plus what apps add with
 * `defineAction()`, each with its ajv validator compiled once, on the action's
 * first use, never per call. Compiling all ~50 catalog schemas at start-up
 * cost every instrumented process ~260 ms for actions most apps never record.
 */
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { actionHints, builtinCatalog } from './catalog/index';
import type { ActionSpec, JsonSchema } from './catalog/schema';
import { AuditDefinitionError } from './errors';
import type { AuditFieldError } from './errors';
import type { AuditSeverity } from './types';

/** An action as `defineAction()` receives it. */
export interface ActionDefinition {
  /** Upper snake case, e.g. `MACHINE_RESTART`. */
  name: string;
  category: string;
  severity: AuditSeverity;
  /** Default `resourceType` of its events. */
  resourceType?: string | null;
  description?: string;
  /** JSON Schema of `details` (an object schema; closed unless it says `additionalProperties`). */
  details: JsonSchema;
  /** Detail fields holding personal data (moved into `personal.fields`). */
  personal?: readonly string[];
  /** Detail field whose number fills `affectedRecords`. */
  affectedRecordsFrom?: string;
  /** Detail field naming a setting whose values are redacted when the name looks secret. */
  secretNameField?: string;
  /** A valid call; checked against the schema when given. */
  example?: { details: Record<string, unknown>; [key: string]: unknown };
}

/** A known action, ready to validate. */
export interface RegisteredAction {
  readonly name: string;
  readonly spec: ActionSpec;
  /** Validates `details`; errors carry paths relative to `/details`. */
  readonly validate: ValidateFunction;
  readonly builtin: boolean;
}

const definitionSchema = {
  type: 'object',
  required: ['name', 'category', 'severity', 'details'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[A-Z][A-Z0-9_]{1,63}$' },
    category: { type: 'string', pattern: '^[a-z][a-z0-9_]{0,63}$' },
    severity: { enum: ['low', 'medium', 'high', 'critical'] },
    resourceType: { type: ['string', 'null'] },
    description: { type: 'string' },
    details: { type: 'object', required: ['type'], properties: { type: { const: 'object' } } },
    personal: { type: 'array', items: { type: 'string' } },
    affectedRecordsFrom: { type: 'string' },
    secretNameField: { type: 'string' },
    example: { type: 'object', required: ['details'], properties: { details: { type: 'object' } } },
  },
} as const;

/** The actions of one process, compiled. */
export class ActionRegistry {
  private compiler: Ajv | undefined;
  private readonly actions = new Map<string, RegisteredAction>();
  private checkDefinition: ValidateFunction | undefined;

  /** Registers the built-in catalog; each schema is compiled when its action is first validated. */
  constructor(catalog: Readonly<Record<string, ActionSpec>> = builtinCatalog) {
    for (const [name, spec] of Object.entries(catalog)) this.actions.set(name, this.lazyAction(name, spec));
  }

  private lazyAction(name: string, spec: ActionSpec): RegisteredAction {
    let validate: ValidateFunction | undefined;
    const compile = () => this.ajv.compile(spec.details);
    return {
      name, spec, builtin: true,
      get validate() {
        return (validate ??= compile());
      },
    };
  }

  // ajv itself (~90 ms to load) is required on the first compile too: an app
  // that records no audit event before its first request does not wait for it.
  private get ajv(): Ajv {
    if (this.compiler === undefined) {
      const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
      this.compiler = new AjvClass({ allErrors: true, strict: true, allowUnionTypes: true, verbose: true });
    }
    return this.compiler;
  }

  /** The action called `name`, if known. */
  get(name: string): RegisteredAction | undefined {
    return this.actions.get(name);
  }

  /** All known actions, built-ins first, in definition order. */
  list(): RegisteredAction[] {
    return [...this.actions.values()];
  }

  /** Adds an app's own action; throws AuditDefinitionError on a bad definition or a taken name. */
  define(definition: ActionDefinition): RegisteredAction {
    const checkDefinition = (this.checkDefinition ??= this.ajv.compile(definitionSchema));
    if (!checkDefinition(definition)) {
      const problems = (checkDefinition.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ');
      throw new AuditDefinitionError('ERR_AUDIT_INVALID_DEFINITION', `audit.defineAction(): invalid definition: ${problems}`);
    }
    const { name } = definition;
    if (this.actions.has(name)) {
      const owner = this.actions.get(name)!.builtin ? 'the built-in catalog' : 'an earlier defineAction()';
      throw new AuditDefinitionError('ERR_AUDIT_DUPLICATE_ACTION', `audit.defineAction(): action ${name} is already defined by ${owner}`);
    }
    const detailsSchema = { additionalProperties: false, properties: {}, required: [], ...definition.details } as ActionSpec['details'];
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(detailsSchema);
    } catch (err) {
      throw new AuditDefinitionError('ERR_AUDIT_INVALID_DEFINITION', `audit.defineAction(${name}): details is not a valid JSON Schema: ${(err as Error).message}`);
    }
    const properties = Object.keys(detailsSchema.properties ?? {});
    for (const field of [...(definition.personal ?? []), definition.affectedRecordsFrom, definition.secretNameField]) {
      if (field !== undefined && !properties.includes(field)) {
        throw new AuditDefinitionError('ERR_AUDIT_INVALID_DEFINITION', `audit.defineAction(${name}): '${field}' is not a property of details (has: ${properties.join(', ') || 'none'})`);
      }
    }
    if (definition.example && !validate(definition.example.details)) {
      const problems = toFieldErrors(validate.errors).map((e) => `${e.path} ${e.message}`).join('; ');
      throw new AuditDefinitionError('ERR_AUDIT_INVALID_DEFINITION', `audit.defineAction(${name}): example does not fit the details schema: ${problems}`);
    }
    const spec: ActionSpec = {
      category: definition.category,
      severity: definition.severity,
      resourceType: definition.resourceType ?? null,
      description: definition.description ?? '',
      details: detailsSchema,
      personal: definition.personal ?? [],
      affectedRecordsFrom: definition.affectedRecordsFrom,
      secretNameField: definition.secretNameField,
      example: (definition.example as ActionSpec['example'] | undefined) ?? { details: {} },
    };
    const action: RegisteredAction = { name, spec, validate, builtin: false };
    this.actions.set(name, action);
    return action;
  }

  /** A hint for an unknown name: the deliberate alternative, or the same name in other case. */
  suggest(name: string): string | undefined {
    const upper = String(name).toUpperCase().replace(/[^A-Z0-9]+/g, '_');
    if (actionHints[upper]) return actionHints[upper];
    if (upper !== name && this.actions.has(upper)) return upper;
    return undefined;
  }
}

/** ajv errors as path + rule + message, paths rooted at `/details`. */
export function toFieldErrors(errors: ErrorObject[] | null | undefined, root = '/details'): AuditFieldError[] {
  return (errors ?? []).map((e) => {
    let path = root + e.instancePath;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required') path += `/${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      path += `/${extra}`;
      message = `is not a field of this action (misspelt? allowed: ${Object.keys((e.parentSchema as JsonSchema | undefined)?.properties ?? {}).join(', ')})`;
    }
    if (e.keyword === 'enum') message += `: ${((e.params as { allowedValues: unknown[] }).allowedValues ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    return { path, rule: e.keyword, message };
  });
}

let shared: ActionRegistry | undefined;

/** The process-wide registry `audit` uses, compiled on first use. */
export function defaultActionRegistry(): ActionRegistry {
  return (shared ??= new ActionRegistry());
}
