/**
 * Every command of `cvd-activity`. Adding one = one entry here: a function
 * `(program, cli) => void` that registers it (use `cli.group('spool', …)` for
 * a subcommand group).
 */
import type { CommandModule } from '../program';
import { registerMigrate } from './migrate';
import { registerAuditVerify } from './auditVerify';
import { registerAuditQuery } from './auditQuery';
import { registerAuditCheckpoint } from './auditCheckpoint';
import { registerAlertCommands } from './alerts';
import { registerDemoCommand } from './demo';
import { registerSpoolCommands } from './spool';

/** Registered in this order; help lists them so. */
export const COMMANDS: CommandModule[] = [
  registerMigrate,
  registerAuditVerify,
  registerAuditQuery,
  registerAuditCheckpoint,
  registerAlertCommands,
  registerSpoolCommands,
  registerDemoCommand,
];
