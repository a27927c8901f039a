/** `cvd-activity migrate`: creates or updates the audit schema. */
import type { Command } from 'commander';
import { migrate } from '../../store/index';
import type { CliContext } from '../program';
import { withClient } from '../connection';

/** Registers `migrate`. */
export function registerMigrate(program: Command, cli: CliContext): void {
  program.command('migrate')
    .description('create or update the audit tables, partitions, roles and grants (idempotent)')
    .option('--no-roles', 'do not create the cvd_activity_writer / cvd_activity_reader roles nor grant them')
    .action(async (opts: { roles: boolean }, command: Command) => {
      const conn = cli.connection(command);
      const result = await withClient(conn, `migrating schema ${conn.schema}`, (client) =>
        migrate(client, { schema: conn.schema, ...(opts.roles ? {} : { roles: false as const }) }));
      const applied = result.applied.length ? `applied ${result.applied.join(', ')}` : 'already up to date';
      cli.stdout.write(`schema ${result.schema} at ${conn.target}: ${applied}; ${result.partitionsCreated} partition(s) created\n`);
      if (result.roles === 'skipped') {
        cli.stderr.write('cvd-activity: warning: roles cvd_activity_writer / cvd_activity_reader are missing and this user may not create them; '
          + 'nothing was granted (run `cvd-activity migrate` once as a user with CREATEROLE)\n');
      }
    });
}
