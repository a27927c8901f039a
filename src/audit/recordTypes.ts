/**
 * The public types of `audit.record()` calls. The details type of each action
 * comes from its catalog schema (DetailsOf), so a misspelt or missing required
 * detail field is a compile error.
 */
import type { ActionName, DetailsOf } from './catalog/index';
import type { AuditOutcome } from './types';

/** Who acted, when it is not the request's user (system jobs: `{ id: 'system:dex-import' }`). */
export interface ActorOverride {
  id: string;
  roles?: readonly string[];
  sessionId?: string;
  /** Default: `system` when the id starts with `system:`, else `user`. */
  type?: 'user' | 'system';
}

/** Everything but `details`, common to all actions. */
export interface RecordEnvelope {
  /** Overrides the action's default resource type. */
  resourceType?: string;
  /** The id of the thing acted on. */
  resourceId?: string | number;
  /** State before the change (any JSON; secret-named fields are redacted). */
  oldValue?: unknown;
  /** State after the change. */
  newValue?: unknown;
  /** Records touched; defaults to the action's count field (e.g. DATA_EXPORT record_count). */
  affectedRecords?: number;
  /** `success` (default) or `failure`. */
  outcome?: AuditOutcome;
  /** Why it failed, for failures. */
  reason?: string;
  /** Who acted, when it is not the current request's user. */
  actor?: ActorOverride;
}

/** `details` is required when the action has required detail fields, optional otherwise. */
type DetailsField<D> = {} extends D ? { details?: D } : { details: D };

/** The fields of `audit.record(action, fields)` for action `A`. */
export type RecordFields<A extends ActionName> = RecordEnvelope & DetailsField<DetailsOf<A>>;

/** The fields of a record call whose details have type `D` (typed `defineAction()` recorders). */
export type RecordFieldsWith<D> = RecordEnvelope & DetailsField<D>;

/** Arguments of `record()`: the fields may be left out when nothing is required. */
export type RecordArgs<A extends ActionName> = {} extends RecordFields<A> ? [fields?: RecordFields<A>] : [fields: RecordFields<A>];
