/** Checks of request input that answer bad requests with a clear 400 (and an app error code on the span). */
import { setErrorCode } from 'cvd-activity';
import { HttpError } from './router';

function fail(status: number, code: string, message: string): never {
  setErrorCode(code);
  throw new HttpError(status, code, message);
}

/** The body as an object, or a 400. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) fail(400, 'INVALID_REQUEST', 'body must be a JSON object');
  return body as Record<string, unknown>;
}

/** A required string field. */
export function str(body: Record<string, unknown>, name: string): string {
  const v = body[name];
  if (typeof v !== 'string' || v.length === 0) fail(400, 'INVALID_REQUEST', `field ${name} must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

/** A required number field within [min, max]. */
export function num(body: Record<string, unknown>, name: string, min = -Infinity, max = Infinity): number {
  const v = body[name];
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    fail(400, 'INVALID_REQUEST', `field ${name} must be a number in [${min}, ${max}], got ${JSON.stringify(v)}`);
  }
  return v;
}

/** A required field whose value is one of `allowed`. */
export function oneOf<T extends string>(body: Record<string, unknown>, name: string, allowed: readonly T[]): T {
  const v = body[name];
  if (!allowed.includes(v as T)) fail(400, 'INVALID_REQUEST', `field ${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** The entry `id` of `map`, or a 404 naming what was not found. */
export function found<T>(map: Map<string, T>, id: string, kind: string): T {
  const v = map.get(id);
  if (v === undefined) fail(404, 'NOT_FOUND', `${kind} ${id} not found`);
  return v;
}

/** A 409 for an operation the resource's state does not allow. */
export function conflict(message: string): never {
  fail(409, 'INVALID_STATE', message);
}
