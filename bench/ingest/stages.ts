/**
 * Where the pipeline's JavaScript goes, stage by stage, on the bench's own
 * events: each stage of the product path timed alone over the same events,
 * on one core, no database (median of 3 passes, µs per event).
 */
import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../../src/audit/types';
import { logLine, personalLine } from '../../src/store/copyRows';
import { chainHash, PiiHasher } from '../../src/store/canonicalEncoding';
import type { ChainLink } from '../../src/store/canonicalEncoding';
import { completeRow, identifyRow } from '../../src/store/rows';
import type { IdentifiedRow, PreparedRow } from '../../src/store/rows';
import { recordedEvents } from './events';
import { median } from '../results.mjs';

/** One stage and its cost. */
export interface StageCost {
  stage: string;
  usPerEvent: number;
}

function timed(n: number, fn: () => void): number {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1000) / n;
}

/** Times each stage over `n` fresh events, three passes, medians. */
export function measureStages(n: number): StageCost[] {
  const pii = new PiiHasher(randomBytes(32));
  const passes: Record<string, number[]> = {};
  const add = (stage: string, us: number) => (passes[stage] ??= []).push(us);
  for (let pass = 0; pass < 3; pass++) {
    let events: AuditEvent[] = [];
    add('record(): validation, redaction, context (into an array)', timed(n, () => (events = recordedEvents(n, pass * n))));
    let lines: string[] = [];
    add('spool line: JSON.stringify of the event', timed(n, () => (lines = events.map((e) => JSON.stringify(e) + '\n'))));
    add('spool read-back after a spill: JSON.parse of the line', timed(n, () => lines.forEach((l) => JSON.parse(l))));
    let ids: IdentifiedRow[] = [];
    add('writer: event id and time (identifyRow)', timed(n, () => (ids = events.map((e) => identifyRow(e, Date.now())))));
    let rows: PreparedRow[] = [];
    add('writer: canonical JSON, storable text, HMAC of personal data (completeRow)', timed(n, () => (rows = ids.map((id) => completeRow(id, pii)))));
    const link: ChainLink = { streamId: 'bench:1:stages', seq: 0, prevHash: null };
    const recordedAt = new Date().toISOString();
    add('writer: SHA-256 chain hash + COPY text of both tables', timed(n, () => {
      let chunk = '';
      for (const row of rows) {
        link.seq += 1;
        row.recordedAt = recordedAt;
        const hash = chainHash(link, row);
        chunk += logLine(link, row, hash);
        if (row.personal) chunk += personalLine(row.eventId, row.personal);
        link.prevHash = hash;
        if (chunk.length > 65_536) chunk = Buffer.from(chunk).length > 0 ? '' : chunk;
      }
    }));
  }
  return Object.entries(passes).map(([stage, us]) => ({ stage, usPerEvent: median(us) }));
}
