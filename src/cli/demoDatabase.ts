/**
 * After `npm run demo` has stopped, its embedded PostgreSQL is stopped too.
 * When no database is configured and the demo ran in the current folder, CLI
 * commands start that server for the duration of the command (one note on
 * stderr says so) and stop it afterwards; a server still running (a demo in
 * progress) is used as it is and left running.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { readDemoInfo, startDemoDatabase } from '../demo/database';
import type { DemoDatabaseInfo, EmbeddedDemoDatabase } from '../demo/database';
import { CliError, EXIT } from './CliError';

/** `.cvd-activity/demo.json` of `cwd` when its embedded cluster still exists, else null. */
export function demoDatabaseInfo(cwd: string): DemoDatabaseInfo | null {
  const info = readDemoInfo(cwd);
  if (!info || typeof info.url !== 'string' || typeof info.port !== 'number') return null;
  return existsSync(join(info.dataDir, 'PG_VERSION')) ? info : null;
}

/** The demo's embedded server, started at most once per CLI run. */
export class DemoDatabaseLease {
  private running?: Promise<EmbeddedDemoDatabase>;

  constructor(private readonly cwd: string, private readonly note: (line: string) => void) {}

  /** Starts the server (first call) and resolves once it accepts connections. */
  async start(info: DemoDatabaseInfo): Promise<void> {
    this.running ??= (async () => {
      this.note(`cvd-activity: no database configured; using the demo's embedded PostgreSQL (${info.dataDir}, port ${info.port}, schema ${info.schema})`);
      try {
        return await startDemoDatabase({ port: info.port, cwd: this.cwd });
      } catch (err) {
        throw new CliError(EXIT.DATABASE, `the demo's embedded PostgreSQL did not start: ${(err as Error).message}`, { cause: err });
      }
    })();
    await this.running;
  }

  /** Stops the server if this run started it; never throws. */
  async stop(): Promise<void> {
    const db = await this.running?.catch(() => undefined);
    this.running = undefined;
    await db?.stop().catch(() => {});
  }
}
