/**
 * `cvd-activity spool status`: what waits in the local audit spool, per
 * process, and whether its process still runs (a dead one's events are written
 * by the next process of the app to start on this host).
 */
import type { Command } from 'commander';
import type { CliContext } from '../program';
import { formatOption } from './options';
import { readSpoolStatus } from '../../pipeline/spoolStatus';
import { quoteIdent } from '../../store/identifiers';
import { readQuarantine } from '../../store/quarantine';
import type { QuarantinedEvent } from '../../store/quarantine';
import { alignColumns } from '../alignColumns';
import { withClient } from '../connection';
import type { SpoolFolderStatus } from '../../pipeline/spoolStatus';

/** Registers `spool status [--dir <path>] [--format table|json]`; the folder defaults to the configured pipeline.spoolDir. */
export function registerSpoolCommands(_program: Command, cli: CliContext): void {
  cli.group('spool', 'inspect the local write-ahead spool of audit events')
    .command('status')
    .description('events waiting in the spool, per process, and whether that process is alive')
    .option('--dir <path>', 'spool folder (default: the configured pipeline.spoolDir)')
    .addOption(formatOption(['table', 'json'], 'table or json'))
    .option('--json', 'same as --format json')
    .addHelpText('after', '\nExit codes: 0 done; 2 bad flag or invalid configuration; 4 internal error.')
    .action(async (flags: { dir?: string; json?: boolean; format: string }, command: Command) => {
      // The CLI's config: an invalid configuration is a usage error (exit 2), like every other command.
      const dir = flags.dir ?? cli.config().pipeline.spoolDir;
      const status = readSpoolStatus(dir);
      const quarantine = await checkQuarantine(cli, command);
      cli.stdout.write(flags.json || flags.format === 'json'
        ? `${JSON.stringify({ ...status, quarantine }, null, 2)}\n`
        : formatStatus(status) + formatQuarantineLine(quarantine));
    });
}

/** The database's quarantine, when one is configured: events already out of the spool but not in the trail. */
type QuarantineCheck = { total: number; events: QuarantinedEvent[] } | { notChecked: string };

async function checkQuarantine(cli: CliContext, command: Command): Promise<QuarantineCheck> {
  const conn = cli.connection(command);
  // No database configured (or only the demo's, which would have to be started): nothing to look at.
  if (conn.source === 'default' || conn.source === 'demo') return { notChecked: 'no database configured' };
  try {
    const found = await withClient(conn, 'reading the quarantine', (client) => readQuarantine(client, quoteIdent(conn.schema)));
    return found ?? { notChecked: `schema ${conn.schema} has no audit_quarantine yet (run cvd-activity migrate)` };
  } catch (err) {
    return { notChecked: (err as Error).message };
  }
}

function formatQuarantineLine(q: QuarantineCheck): string {
  if ('notChecked' in q) return `quarantine not checked: ${q.notChecked}\n`;
  if (q.total === 0) return 'quarantine empty: Postgres has refused no audit event\n';
  return `QUARANTINE ${q.total} event(s) refused by Postgres for their content, kept in audit_quarantine: \`cvd-activity audit verify\` lists them\n`;
}

/** The human-readable table of `spool status`. */
export function formatStatus(s: SpoolFolderStatus): string {
  if (!s.exists) return `no spool at ${s.dir}: nothing recorded on this host yet, or pipeline.spoolDir points elsewhere\n`;
  if (s.instances.length === 0) return `spool ${s.dir} is empty: every accepted audit event is committed\n`;
  const rows = s.instances.map((i) => [i.instance, i.state, String(i.segments), String(i.events), formatBytes(i.bytes), i.oldest ?? '-']);
  const head = ['process (host_pid_id)', 'state', 'segments', 'events', 'size', 'oldest segment'];
  const dead = s.instances.filter((i) => i.state === 'dead' && i.segments > 0).length;
  return [
    `spool ${s.dir}: ${s.totalEvents} event line(s), ${formatBytes(s.totalBytes)}`,
    ...alignColumns([head, ...rows]),
    dead > 0 ? `${dead} stopped process(es) left events behind: the next process of the app to start on this host writes them to Postgres` : '',
  ]
    .filter(Boolean)
    .join('\n') + '\n';
}

function formatBytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}
