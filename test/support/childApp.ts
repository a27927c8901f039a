/**
 * Runs a fixture app in a child process under `--require dist/register.js`
 * or `--import dist/register.mjs`, as a user would, and waits until it listens.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');

/** A running fixture app. */
export interface ChildApp {
  proc: ChildProcess;
  port: number;
  base: string;
  stdout(): string;
  stderr(): string;
  /** Resolves with how the process ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(): Promise<void>;
}

/** Starts `fixture` (a file in test/fixtures, or an absolute path) with the register entry for `mode`; `cwd` defaults to the package root. */
export async function startChildApp(
  fixture: string, mode: 'require' | 'import' | 'none', env: NodeJS.ProcessEnv = {}, nodeFlags: string[] = [], cwd: string = ROOT,
): Promise<ChildApp> {
  const flags = mode === 'require' ? ['--require', join(ROOT, 'dist', 'register.js')]
    : mode === 'import' ? ['--import', join(ROOT, 'dist', 'register.mjs')] : [];
  const clean: NodeJS.ProcessEnv = {};
  // Start from a clean environment so the developer's OTEL_* or CVD_ACTIVITY_* cannot leak in.
  for (const [k, v] of Object.entries(process.env)) if (!/^(OTEL_|CVD_ACTIVITY_|NODE_OPTIONS$)/.test(k)) clean[k] = v;
  // Each child spools audit events in a folder of its own (removed when it exits), so no test
  // drains another test's leftovers from the package's default spool folder.
  const ownSpool = env.CVD_ACTIVITY_SPOOL_DIR === undefined && !('CVD_ACTIVITY_SPOOL_DIR' in env) ? mkdtempSync(join(tmpdir(), 'cvd-child-spool-')) : null;
  const proc = spawn(process.execPath, [...nodeFlags, ...flags, resolvePath(FIXTURES, fixture)], {
    cwd,
    // A variable given as undefined is removed (to test defaults).
    env: Object.fromEntries(Object.entries({ ...clean, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_LOG_LEVEL: 'warn', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json', ...(ownSpool ? { CVD_ACTIVITY_SPOOL_DIR: ownSpool } : {}), ...env })
      .filter(([, v]) => v !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => {
      if (ownSpool) rmSync(ownSpool, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture ${fixture} did not start: ${err}`)), 20000);
    const check = (): void => {
      const m = /LISTENING (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', check);
    void exited.then(() => reject(new Error(`fixture ${fixture} exited early: ${err}`)));
  });
  return {
    proc, port, base: `http://127.0.0.1:${port}`,
    stdout: () => out, stderr: () => err, exited,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}
