/** Runs test/pipeline/fixtures/recorder.ts as a child process and collects the event ids it accepted. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** A running recorder: ids printed so far, its stream, its exit. */
export interface Recorder {
  child: ChildProcess;
  ids: string[];
  stream: string | null;
  done: boolean;
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const fixture = join(__dirname, '..', 'pipeline', 'fixtures', 'recorder.ts');
const running = new Set<ChildProcess>();

/** Starts a recorder with the given env (DB_URL, SCHEMA, SPOOL_DIR, COUNT, BATCH_SIZE). */
export function startRecorder(env: Record<string, string>): Recorder {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const rec: Recorder = { child, ids: [], stream: null, done: false, stderr: '', exited: undefined as never };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!; // an id cut off by SIGKILL was never fully printed: not counted
    for (const line of lines) {
      if (line.startsWith('stream ')) rec.stream = line.slice(7);
      else if (line === 'done') rec.done = true;
      else if (line) rec.ids.push(line);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (rec.stderr += c));
  rec.exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  return rec;
}

/** Kills every recorder still running (after hooks). */
export function killRecorders(): void {
  for (const child of running) child.kill('SIGKILL');
}

/** Resolves once `cond()` holds; rejects after `ms`. */
export async function until(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
