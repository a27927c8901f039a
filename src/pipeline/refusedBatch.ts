/**
 * What the pipeline does with a batch the database refused for its content
 * (StoreError.retriable false: a value out of range, an encoding Postgres
 * cannot store, a value too large for an index). Trying the same batch again
 * cannot succeed, and retrying it forever would stop its whole stream. So the
 * batch is split in halves until the refused event is found; that event goes
 * to the writer's quarantine (table audit_quarantine) and every other event is
 * committed in spool order, as if nothing had happened.
 */
import { ROOT_CONTEXT, context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type { AuditEvent } from '../audit/types';
import { AppendOnlyViolationError, StoreError } from '../store/errors';
import type { AuditWriter } from '../store/types';

/** The pipeline's part in isolating a refused event. */
export interface RefusedBatchSteps {
  /** Writes events from the spool's head; resolves null when committed, else with the error. */
  send(events: AuditEvent[]): Promise<unknown>;
  /** Counts `count` events at the spool's head as stored (committed or quarantined). */
  committed(count: number): void;
  /** The stream's writer. */
  writer(): Promise<AuditWriter>;
  /** Says loudly that an event was quarantined. */
  quarantined(event: AuditEvent, refusal: StoreError): void;
}

/** Whether the database refused a batch for what it holds, so the same batch can never succeed. */
export function refusedForContent(error: unknown): error is StoreError {
  // The append-only guard is not about content: it means someone changed the database.
  return error instanceof StoreError && !error.retriable && !(error instanceof AppendOnlyViolationError);
}

/**
 * Finds and quarantines the refused events of `events` (the oldest events of
 * the spool), committing the others in order. Resolves null when every event
 * is stored, or with the error (Postgres unavailable, no quarantine) that
 * stopped it: what is left stays spooled and the pipeline retries as usual.
 */
export async function isolateRefused(events: AuditEvent[], refusal: StoreError, steps: RefusedBatchSteps): Promise<unknown> {
  if (events.length === 1) return quarantine(events[0]!, refusal, steps);
  const half = Math.ceil(events.length / 2);
  for (const part of [events.slice(0, half), events.slice(half)]) {
    const outcome = await steps.send(part);
    const error = outcome === null ? null : refusedForContent(outcome) ? await isolateRefused(part, outcome, steps) : outcome;
    if (error !== null) return error;
    if (outcome === null) steps.committed(part.length);
  }
  return null;
}

async function quarantine(event: AuditEvent, refusal: StoreError, steps: RefusedBatchSteps): Promise<unknown> {
  try {
    const writer = await steps.writer();
    // A writer without a quarantine keeps the event at the head and retried: never dropped.
    if (!writer.quarantine) return refusal;
    await context.with(suppressTracing(ROOT_CONTEXT), () => writer.quarantine!(event, refusal));
  } catch (err) {
    return err;
  }
  steps.quarantined(event, refusal);
  steps.committed(1);
  return null;
}
