/**
 * Every command of `cvd-activity`. Adding one = one entry here: a function
 * `(program, cli) => void` that registers it (use `cli.group('spool', …)` for
 * a subcommand group).
 */
import type { CommandModule } from '../program';
import { registerMigrate } from './migrate';
import { registerAuditVerify } from './auditVerify';
import { registerAuditQuery } from './auditQuery';
import { registerAuditImport } from './auditImport';
import { registerAlertCommands } from './alerts';
import { registerDemoCommand } from './demo';
import { registerGdprCommands } from './gdpr';
import { registerRetentionCommands } from './retention';
import { registerSpoolCommands } from './spool';

/** Registered in this order; help lists them so. */
export const COMMANDS: CommandModule[] = [
  registerMigrate,
  registerAuditVerify,
  registerAuditQuery,
  registerAuditImport,
  registerAlertCommands,
  registerGdprCommands,
  registerRetentionCommands,
  registerSpoolCommands,
  registerDemoCommand,
];
