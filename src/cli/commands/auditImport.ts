/**
 * `cvd-activity audit import <file>`: rows of the old audit_log /
 * user_activity_log tables (NDJSON or CSV) into the trail, each an event that
 * keeps its original time, chained by the store's writer on the stream
 * `import@<host>`. Idempotent: event ids derive from the source and each
 * row's content, so a re-run stores nothing twice. Bad lines are reported
 * with their number and skipped; the rest imports. The import itself is
 * recorded as an AUDIT_IMPORT. See docs/data-lifecycle.md, "Importing legacy rows".
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import pg from 'pg';
import type { AuditEvent } from '../../audit/types';
import { resolvePiiKey } from '../../config/piiKey';
import { createPgAuditWriter } from '../../store/PgAuditWriter';
import { CliError, EXIT, usageError } from '../CliError';
import { databaseError, requireSchema, withClient } from '../connection';
import type { CliConnection } from '../connection';
import type { CliContext } from '../program';
import type { ImportContext } from '../legacyImport/legacyEvent';
import type { LegacyFormat } from '../legacyImport/legacyRows';
import { parseChoice } from './options';

interface ImportFlags { format?: string; source?: string }

/** What one import did. */
interface ImportTally { lines: number; imported: number; alreadyStored: number; bad: number; first: number | null; last: number | null }

const BATCH = 1000;
/** A progress line on stderr after every this many lines. */
const PROGRESS_EVERY_LINES = 10_000;

/** Registers `audit import`. */
export function registerAuditImport(_program: Command, cli: CliContext): void {
  cli.group('audit', 'read and check the audit trail').command('import')
    .description('import rows of the old audit_log / user_activity_log tables (NDJSON or CSV) as audit events, keeping their times')
    .argument('<file>', 'NDJSON (one JSON object per line) or CSV with a header row')
    .option('--format <format>', 'ndjson or csv (default: csv for a .csv file, else ndjson)')
    .option('--source <name>', 'where the rows come from, stored with each event and part of its id (default: the file name)')
    .addHelpText('after', '\nRe-running the same file with the same --source stores nothing twice. Exit codes: 0 every line imported;\n1 some lines were bad (reported on stderr with their line numbers; the others are imported); 2 bad flag or file; 3 database.')
    .action(async (file: string, flags: ImportFlags, command: Command) => {
      if (!existsSync(file)) throw usageError('<file>', file, 'name an existing NDJSON or CSV file');
      const format = flags.format === undefined ? (/\.csv$/i.test(file) ? 'csv' : 'ndjson') : parseChoice('--format', flags.format, ['ndjson', 'csv'] as const);
      const source = flags.source ?? basename(file);
      const conn = cli.connection(command);
      await withClient(conn, `checking schema ${conn.schema}`, (client) => requireSchema(client, conn));
      const tally = await importFile(cli, conn, { file, format, source });
      await recordImport(cli, conn, source, format, tally);
      cli.stdout.write(`imported ${tally.imported} event(s) from ${file} (${tally.lines} line(s); ${tally.alreadyStored} already stored; ${tally.bad} bad)\n`);
      if (tally.bad > 0) throw new CliError(EXIT.FAILED, `${tally.bad} bad line(s) of ${file} were not imported (listed above); fix them and run the import again`);
    });
}

async function importFile(cli: CliContext, conn: CliConnection, job: { file: string; format: LegacyFormat; source: string }): Promise<ImportTally> {
  const config = cli.config();
  const pool = new pg.Pool({ ...conn.config, max: 2 });
  pool.on('error', () => {}); // an idle connection dropping surfaces in the next query
  // The app's key, so `audit verify` with it checks imported personal data too.
  const piiKey = resolvePiiKey(config.database.piiKey, config.pipeline.spoolDir);
  const writer = createPgAuditWriter({ pool, schema: conn.schema, streamId: `import@${hostname()}`, piiKey });
  // Loaded here: the catalog (ajv) and csv-parse cost start-up time the other commands should not pay.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { defaultActionRegistry } = require('../../audit/ActionRegistry') as typeof import('../../audit/ActionRegistry');
  const { Redactor } = require('../../audit/redact') as typeof import('../../audit/redact');
  const { legacyEvent, legacyEventId } = require('../legacyImport/legacyEvent') as typeof import('../legacyImport/legacyEvent');
  const { readLegacyRows } = require('../legacyImport/legacyRows') as typeof import('../legacyImport/legacyRows');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const ctx: ImportContext = {
    source: job.source,
    importedAt: new Date().toISOString(),
    registry: defaultActionRegistry(),
    settings: { serviceName: 'cvd-activity-import', maxFieldBytes: config.audit.maxFieldBytes, maxEventBytes: config.audit.maxEventBytes, redactor: new Redactor(config.redaction.fields) },
  };
  const tally: ImportTally = { lines: 0, imported: 0, alreadyStored: 0, bad: 0, first: null, last: null };
  const seen = new Map<string, number>(); // digest of a row's text → how many such rows so far: the n-th gets its own id
  let batch: AuditEvent[] = [];
  const flush = async () => {
    const result = await writer.writeBatch(batch);
    tally.imported += result.inserted;
    tally.alreadyStored += result.duplicates;
    batch = [];
  };
  const bad = (line: number, message: string) => {
    tally.bad += 1;
    cli.stderr.write(`cvd-activity: ${job.file}:${line}: ${message}; line skipped\n`);
  };
  try {
    for await (const item of readLegacyRows(job.file, job.format)) {
      tally.lines += 1;
      if (tally.lines % PROGRESS_EVERY_LINES === 0) {
        cli.stderr.write(`cvd-activity: import ${job.file}: ${tally.lines} line(s) read, ${tally.imported} imported, ${tally.alreadyStored} already stored, ${tally.bad} bad\n`);
      }
      if ('error' in item) {
        bad(item.line, item.error);
        continue;
      }
      const digest = createHash('sha256').update(item.raw).digest('base64');
      const occurrence = (seen.get(digest) ?? 0) + 1;
      seen.set(digest, occurrence);
      const event = legacyEvent(item.row, item.line, legacyEventId(job.source, item.raw, occurrence), ctx);
      if ('error' in event) {
        bad(item.line, event.error);
        continue;
      }
      const at = Date.parse(event.occurredAt);
      tally.first = Math.min(tally.first ?? at, at);
      tally.last = Math.max(tally.last ?? at, at);
      batch.push(event);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length > 0) await flush();
  } catch (err) {
    if (err instanceof CliError) throw err;
    const stored = `${tally.imported} event(s) before it are stored; running the import again continues where it stopped`;
    if ((err as { code?: string }).code?.startsWith('CSV_')) {
      throw new CliError(EXIT.USAGE, `${job.file}: cannot read on after line ${tally.lines}: ${(err as Error).message}; ${stored}`, { cause: err });
    }
    throw new CliError(EXIT.DATABASE, `${databaseError(err, conn, 'importing').message}; ${stored}`, { cause: err });
  } finally {
    await writer.close().catch(() => {});
    await pool.end().catch(() => {});
  }
  return tally;
}

async function recordImport(cli: CliContext, conn: CliConnection, source: string, format: LegacyFormat, t: ImportTally): Promise<void> {
  const iso = (ms: number | null) => (ms === null ? undefined : new Date(ms).toISOString());
  try {
    await cli.recordAudit([{
      action: 'AUDIT_IMPORT',
      fields: {
        resourceId: source,
        details: {
          source, format, lines: t.lines, imported: t.imported, already_stored: t.alreadyStored, bad_lines: t.bad,
          ...(t.first !== null ? { first_event_at: iso(t.first)!, last_event_at: iso(t.last)! } : {}),
        },
      },
    }], conn);
  } catch (err) {
    throw new CliError(EXIT.DATABASE, `the import is stored but could not be recorded in the audit trail: ${databaseError(err, conn, 'recording the import').message}`, { cause: err });
  }
}
