/**
 * The instrumented demo API as a child process, started exactly as a user
 * starts an app: `node --require cvd-activity/register dist/demo/server.js`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The activity counters the server's cvd-activity reported when it exited. */
export type { ActivityStats } from 'cvd-activity';
import type { ActivityStats } from 'cvd-activity';

/** Options of the child process. */
export interface DemoServerOptions {
  /** Environment of the child (the caller adds the database and OpenTelemetry settings). */
  env: NodeJS.ProcessEnv;
  /** File the server writes its activity counters to at exit. */
  statsFile: string;
  /** Receives the child's stderr lines (its diag output). */
  onStderr?: (line: string) => void;
  /** Longest wait for the server to listen (ms). */
  startTimeoutMs?: number;
}

/** Root of the installed package (where dist/ is), found the way a user's code would find it. */
export function packageRoot(): string {
  return dirname(require.resolve('cvd-activity/package.json'));
}

export class DemoServerProcess {
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private stderrTail: string[] = [];
  /** The API's base URL once it listens. */
  url = '';

  constructor(private readonly options: DemoServerOptions) {}

  /** Starts the server and resolves with its URL when it listens. */
  async start(): Promise<string> {
    const root = packageRoot();
    const server = join(root, 'dist', 'demo', 'server.js');
    const register = join(root, 'dist', 'register.js');
    for (const file of [server, register]) {
      if (!existsSync(file)) throw new Error(`${file} is missing; run \`npm run build\` first`);
    }
    const child = spawn(process.execPath, ['--require', register, server], {
      env: { ...this.options.env, CVD_DEMO_STATS_FILE: this.options.statsFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.exited = new Promise((done) => child.once('exit', (code) => done(code)));
    child.stderr!.setEncoding('utf8').on('data', (text: string) => {
      for (const line of text.split('\n').filter(Boolean)) {
        this.stderrTail = [...this.stderrTail.slice(-19), line];
        this.options.onStderr?.(line);
      }
    });
    const timeout = this.options.startTimeoutMs ?? 30_000;
    this.url = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`the demo API did not start within ${timeout} ms${this.tail()}`)), timeout);
      child.stdout!.setEncoding('utf8').on('data', (text: string) => {
        const match = /listening on (http:\/\/\S+)/.exec(text);
        if (match) {
          clearTimeout(timer);
          // Listening on every interface (CVD_DEMO_HOST=0.0.0.0, e.g. in a container): talk to it over loopback.
          done(match[1].replace(/\/\/(0\.0\.0\.0|\[::\])(?=:)/, '//127.0.0.1'));
        }
      });
      void this.exited!.then((code) => {
        clearTimeout(timer);
        fail(new Error(`the demo API exited with code ${code} before listening${this.tail()}`));
      });
    });
    return this.url;
  }

  /** Sends SIGTERM without waiting (the server flushes and exits by itself). */
  terminate(): void {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }

  /** SIGTERM, then waits for the exit (cvd-activity flushes first); SIGKILL after `timeoutMs`. Returns the counters. */
  async stop(timeoutMs = 30_000): Promise<ActivityStats | null> {
    if (!this.child || !this.exited) return null;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    try {
      return JSON.parse(readFileSync(this.options.statsFile, 'utf8')) as ActivityStats;
    } catch {
      return null;
    }
  }

  private tail(): string {
    return this.stderrTail.length ? `; its last output:\n  ${this.stderrTail.join('\n  ')}` : '';
  }
}
