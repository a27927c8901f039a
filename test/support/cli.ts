/** Runs the built CLI (dist/cli/main.js) as a child process. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** What a CLI run printed and how it ended. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

const MAIN = join(__dirname, '..', '..', 'dist', 'cli', 'main.js');

/** Runs `cvd-activity ...args` with `env` added to a clean copy of the environment (no database, no PG* variables), in `cwd`. */
export function runCliProcess(args: string[], env: Record<string, string> = {}, options: { cwd?: string } = {}): Promise<CliRun> {
  const base = { ...process.env };
  for (const k of Object.keys(base)) {
    if (/^(CVD_ACTIVITY_DATABASE_URL|DATABASE_URL|CVD_ACTIVITY_SCHEMA|CVD_ACTIVITY_PII_KEY|PG[A-Z]+)$/.test(k)) delete base[k];
  }
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, timeout: 60_000, cwd: options.cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
