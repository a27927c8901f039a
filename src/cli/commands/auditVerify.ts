/** `cvd-activity audit verify`: checks every hash chain; exit 0 intact, 1 broken. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { verifyChain } from '../../store/verify';
import { verifyArchive } from '../../store/archiveRead';
import type { VerifyProgress } from '../../store/verify';
import { CliError, EXIT } from '../CliError';
import { formatOption } from './options';
import { requireSchema, withClient } from '../connection';
import type { CliContext } from '../program';
import { decodePiiKey } from '../../config/piiKey';
import { quoteIdent } from '../../store/identifiers';
import { readQuarantine } from '../../store/quarantine';
import type { QuarantineSummary } from '../../store/quarantine';

/** Tables at least this large get progress lines on stderr (always when stderr is a terminal). */
const PROGRESS_ABOVE_ROWS = 100_000;

/** Registers `audit verify`. */
export function registerAuditVerify(_program: Command, cli: CliContext): void {
  cli.group('audit', 'read and check the audit trail').command('verify')
    .description('walk every stream, check sequence continuity and hashes against the stored heads')
    .addOption(formatOption(['table', 'json', 'text'], 'table (or its old name text) or json'))
    .option('--archive <dir>', 'also re-verify the archived rows (retention --archive-dir) and their links into the chain')
    .addHelpText('after', '\nExit codes: 0 every chain intact; 1 a chain is broken (stdout names the first broken event of each stream);\n2 bad flag; 3 database unreachable or schema missing; 4 internal error.')
    .action(async (opts: { format: string; archive?: string }, command: Command) => {
      const conn = cli.connection(command);
      let piiKey: Buffer | null;
      try {
        piiKey = decodePiiKey(cli.config().database.piiKey);
      } catch (err) {
        throw new CliError(EXIT.USAGE, (err as Error).message);
      }
      let lastReport = 0;
      const onProgress = (p: VerifyProgress) => {
        const now = Date.now();
        const large = p.estimatedRows >= PROGRESS_ABOVE_ROWS || (cli.stderr as { isTTY?: boolean }).isTTY;
        if (!large || now - lastReport < 1000) return;
        lastReport = now;
        const of = p.estimatedRows ? ` of ~${p.estimatedRows}` : '';
        cli.stderr.write(`cvd-activity: verified ${p.rowsChecked}${of} events (stream ${p.streamId})\n`);
      };
      const { result, archive } = await withClient(conn, `verifying schema ${conn.schema}`, async (client) => {
        await requireSchema(client, conn);
        const verdict = await verifyChain(client, { schema: conn.schema, onProgress, ...(piiKey ? { piiKey } : {}) });
        const quarantine = await readQuarantine(client, quoteIdent(conn.schema));
        return { result: { ...verdict, quarantine }, archive: opts.archive === undefined ? null : await verifyArchive(client, { schema: conn.schema, dir: resolve(opts.archive) }) };
      });
      if (opts.format === 'json') cli.stdout.write(`${JSON.stringify(archive ? { ...result, ok: result.ok && archive.ok, archive } : result, null, 2)}\n`);
      else {
        if (result.quarantine?.total) cli.stdout.write(formatQuarantine(result.quarantine));
        for (const s of result.streams) {
          cli.stdout.write(s.problem ? `BROKEN ${s.problem.message}\n` : `ok     stream ${s.streamId}: ${s.rows} events, head at seq ${s.headSeq}\n`);
        }
        for (const f of archive?.files ?? []) cli.stdout.write(f.problem ? `BROKEN ${f.problem}\n` : `ok     archive ${f.file}: ${f.rows} events\n`);
        if (result.ok && (archive?.ok ?? true)) {
          const archived = archive ? `, ${archive.rowsChecked} archived events in ${archive.files.length} file(s)` : '';
          cli.stdout.write(`audit trail intact: ${result.rowsChecked} events in ${result.streams.length} stream(s)${archived}${piiKey ? ', personal data checked' : ''}\n`);
        }
      }
      if (!result.ok) {
        const broken = result.streams.filter((s) => s.problem).length;
        throw new CliError(EXIT.FAILED, `audit trail BROKEN: ${broken} of ${result.streams.length} stream(s) fail verification`);
      }
      if (archive && !archive.ok) {
        const broken = archive.files.filter((f) => f.problem).length;
        throw new CliError(EXIT.FAILED, `audit archive BROKEN: ${broken} of ${archive.files.length} file(s) fail verification`);
      }
    });
}

/** The quarantined events, outside every chain (verify still passes): who must look at what. */
export function formatQuarantine(q: QuarantineSummary): string {
  const listed = q.events.map((e) => `  ${e.eventId} ${e.action ?? '?'} (stream ${e.streamId}, ${e.quarantinedAt}): ${e.sqlState ?? ''} ${e.error}\n`);
  const more = q.total > q.events.length ? `  … and ${q.total - q.events.length} more (table audit_quarantine)\n` : '';
  return `QUARANTINE ${q.total} event(s) refused by Postgres for their content, kept in audit_quarantine outside the chains:\n${listed.join('')}${more}`;
}
