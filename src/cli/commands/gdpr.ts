/**
 * `cvd-activity gdpr export` and `gdpr erase`: data-subject requests for one
 * user id. Export gives every audit event the user performed or was the
 * subject of, with the personal data stored beside it (JSON also: their
 * browser events and, with --tempo-url, their spans), recorded as a
 * DATA_EXPORT before anything is written. Erase blanks that personal data in
 * the trail and in the spool's waiting events and deletes their browser
 * events, recorded as a PERSONAL_DATA_ERASURE that holds no personal data itself.
 * See docs/data-lifecycle.md, "Data-subject requests".
 */
import { renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { browserEventsOf, deleteBrowserEventsOf, exportDataSubject } from '../../store/dataSubject';
import { archivedDataSubjectEvents } from '../../store/archiveQuery';
import type { DataSubjectEvent } from '../../store/dataSubject';
import { erasePersonalData } from '../../store/retention';
import { AUDIT_TRAIL_COLUMNS } from '../../store/query';
import { eraseSpooledPersonalData } from '../../pipeline/spoolErasure';
import { CliError, EXIT, usageError } from '../CliError';
import type { CliAuditEvent } from '../cliAudit';
import { databaseError, requireSchema, withClient } from '../connection';
import type { CliConnection } from '../connection';
import type { CliContext } from '../program';
import { searchUserSpans } from '../tempoSearch';
import type { ExportedSpan } from '../tempoSearch';
import { csvTable, plainRow } from './format';
import { formatOption, parseTime } from './options';

interface ExportFlags { user: string; format: 'json' | 'csv'; output?: string; tempoUrl?: string; tempoTenant?: string; tempoSince: string; archive?: string }
interface EraseFlags { user: string; spoolDir?: string }

const EXPORT_COLUMNS = [...AUDIT_TRAIL_COLUMNS.map(([c]) => c), 'role', 'personal_fields', 'erased_at'];

/** Registers `gdpr export` and `gdpr erase`. */
export function registerGdprCommands(_program: Command, cli: CliContext): void {
  const group = cli.group('gdpr', "data-subject requests: export or erase one user's data");
  group.command('export')
    .description('every audit event the user performed or was the subject of, with their personal data (recorded as a DATA_EXPORT)')
    .requiredOption('--user <id>', 'the user id (as the app passes it to setUser)')
    .addOption(formatOption(['json', 'csv'] as const, 'json or csv'))
    .option('--output <file>', 'write to this file (mode 0600) instead of stdout')
    .option('--tempo-url <url>', "also export the user's spans from Tempo's search API (e.g. http://tempo:3200); json only")
    .option('--tempo-tenant <ids>', 'Tempo tenants to search (X-Scope-OrgID), comma-separated (default: none, single-tenant)')
    .option('--tempo-since <time>', 'oldest spans searched (Tempo keeps spans 90 days at most)', '90d')
    .option('--archive <dir>', 'also export archived events (default: the configured retention.archiveDir)')
    .action((flags: ExportFlags, command: Command) => exportCommand(flags, cli.connection(command), cli));
  group.command('erase')
    .description("erase the user's personal data in the audit trail and in the spool's waiting events (recorded as a PERSONAL_DATA_ERASURE)")
    .requiredOption('--user <id>', 'the user id')
    .option('--spool-dir <path>', "the app's spool folder on this host (default: the configured pipeline.spoolDir)")
    .action((flags: EraseFlags, command: Command) => eraseCommand(flags, cli.connection(command), cli));
}

function checkUser(user: string): string {
  if (user.trim() === '') throw usageError('--user', user, 'give a non-empty user id');
  return user;
}

async function exportCommand(flags: ExportFlags, conn: CliConnection, cli: CliContext): Promise<void> {
  const user = checkUser(flags.user);
  if (flags.tempoUrl !== undefined && flags.format !== 'json') {
    throw new CliError(EXIT.USAGE, '--tempo-url needs --format json: spans do not fit the CSV columns of audit events');
  }
  if (flags.tempoUrl !== undefined && !/^https?:\/\/[^\s]+$/.test(flags.tempoUrl)) {
    throw usageError('--tempo-url', flags.tempoUrl, 'use an http:// or https:// URL of Tempo\'s HTTP API (port 3200)');
  }
  const since = parseTime('--tempo-since', flags.tempoSince);
  const { events, browser } = await withClient(conn, `exporting the events of user ${user}`, async (client) => {
    await requireSchema(client, conn);
    const hot = await exportDataSubject(client, { schema: conn.schema, userId: user });
    // The browser module's events of the user: in the JSON export (they do not fit the CSV columns of audit events).
    const browser = flags.format === 'json' ? await browserEventsOf(client, { schema: conn.schema, userId: user }) : [];
    const archiveDir = flags.archive !== undefined ? resolve(flags.archive) : cli.config().retention.archiveDir;
    if (archiveDir === null) return { events: hot, browser };
    // Archived events are older than every hot one of the same class; sorted together all the same (oldest first).
    const archived = await archivedDataSubjectEvents(client, { schema: conn.schema, archiveDir, userId: user });
    return { events: [...archived, ...hot].sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime()), browser };
  });
  let spans: ExportedSpan[] | undefined;
  if (flags.tempoUrl !== undefined) {
    const tenants = (flags.tempoTenant ?? '').split(',').map((t) => t.trim()).filter(Boolean);
    try {
      spans = await searchUserSpans({ url: flags.tempoUrl, userId: user, tenants, since, until: new Date() });
    } catch (err) {
      throw new CliError(EXIT.DATABASE, `${(err as Error).message}; nothing was exported`, { cause: err });
    }
  }
  const recorded: CliAuditEvent = {
    action: 'DATA_EXPORT',
    fields: {
      resourceType: 'user', resourceId: user,
      details: { dataset: 'gdpr_export', format: flags.format, record_count: events.length + browser.length + (spans?.length ?? 0), filters: { user, tempo: spans !== undefined } },
    },
  };
  await recordOrFail(cli, conn, recorded, 'this export could not be recorded in the audit trail, so nothing is exported');
  const text = flags.format === 'csv' ? csvTable(EXPORT_COLUMNS, events.map(exportRecord)) : exportJson(user, conn.schema, events, browser, spans);
  if (flags.output === undefined) cli.stdout.write(text);
  else writePrivateFile(flags.output, text);
  cli.stderr.write(`cvd-activity: exported ${events.length} audit event(s)${browser.length ? `, ${browser.length} browser event(s)` : ''}${spans ? ` and ${spans.length} span(s)` : ''} of user ${user}${flags.output ? ` to ${flags.output}` : ''}\n`);
}

function exportRecord(e: DataSubjectEvent): Record<string, unknown> {
  return { ...plainRow(e), role: e.role, personal_fields: e.personalFields, erased_at: e.erasedAt?.toISOString() ?? null };
}

function exportJson(user: string, schema: string, events: DataSubjectEvent[], browser: Record<string, unknown>[], spans: ExportedSpan[] | undefined): string {
  const head = { user, exportedAt: new Date().toISOString(), schema, eventCount: events.length, browserEventCount: browser.length };
  const body = events.map((e) => `    ${JSON.stringify(exportRecord(e))}`).join(',\n');
  const browserPart = `,\n  "browserEvents": ${JSON.stringify(browser, null, 2).replace(/\n/g, '\n  ')}`;
  const spanPart = spans ? `,\n  "spans": ${JSON.stringify(spans, null, 2).replace(/\n/g, '\n  ')}` : '';
  return `${JSON.stringify(head, null, 2).slice(0, -2)},\n  "events": [${body ? `\n${body}\n  ` : ''}]${browserPart}${spanPart}\n}\n`;
}

/** Personal data in a file nobody else on the host may read; written whole or not at all. */
function writePrivateFile(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    throw new CliError(EXIT.USAGE, `--output: cannot write ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function eraseCommand(flags: EraseFlags, conn: CliConnection, cli: CliContext): Promise<void> {
  const user = checkUser(flags.user);
  const spoolDir = flags.spoolDir ?? cli.config().pipeline.spoolDir;
  // The spool first: an event written from it after this point carries no personal data any more.
  let spool;
  try {
    spool = eraseSpooledPersonalData({ dir: spoolDir, userId: user });
  } catch (err) {
    throw new CliError(EXIT.INTERNAL, `cannot erase in the spool ${spoolDir}: ${(err as Error).message}; nothing was erased in the trail`, { cause: err });
  }
  const { erased, browser } = await withClient(conn, `erasing the personal data of user ${user}`, async (client) => {
    await requireSchema(client, conn);
    return {
      erased: await erasePersonalData(client, { schema: conn.schema, dataSubject: user }),
      browser: await deleteBrowserEventsOf(client, { schema: conn.schema, userId: user }),
    };
  });
  await recordOrFail(cli, conn, {
    action: 'PERSONAL_DATA_ERASURE',
    fields: { resourceId: user, details: { target_user_id: user, events_erased: erased, spool_events_erased: spool.events, browser_events_deleted: browser } },
  }, 'the erasure is done but could not be recorded in the audit trail (running `gdpr erase` again records it)');
  cli.stdout.write(`erased the personal data of user ${user}: ${erased} event(s) in schema ${conn.schema}, `
    + `${spool.events} waiting event(s) in ${spool.files} spool file(s) of ${spoolDir}, ${browser} browser event(s) deleted\n`);
  if (spool.eventsOfRunningProcesses > 0) {
    cli.stderr.write(`cvd-activity: ${spool.eventsOfRunningProcesses} of the waiting events belong to running processes, which may `
      + 'already hold them in memory: run `gdpr erase` again once `spool status` shows them committed\n');
  }
}

/** Stores the CLI's own audit event; when it cannot, fails with `failure` and the reason. */
async function recordOrFail(cli: CliContext, conn: CliConnection, event: CliAuditEvent, failure: string): Promise<void> {
  try {
    await cli.recordAudit([event], conn);
  } catch (err) {
    const reason = databaseError(err, conn, 'recording a CLI audit event').message;
    throw new CliError(EXIT.DATABASE, `${failure}: ${reason}`, { cause: err });
  }
}
