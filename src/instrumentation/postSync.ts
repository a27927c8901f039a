/**
 * One HTTP POST that blocks the calling thread until it is answered or the
 * deadline passes: the only way to send spans from inside process.on('exit'),
 * which Node runs synchronously right before the process ends (after
 * process.exit(), an uncaught exception, an unhandled rejection).
 *
 * A worker thread does the request with its own event loop while this thread
 * waits on a shared Int32Array (Atomics.wait). Chosen over the alternatives:
 *  - deferring process.exit() until an async flush is done would let the
 *    app's code after `process.exit()` run, which Node never does;
 *  - spawning a child process (execFileSync) costs a whole Node start-up and
 *    needs a node binary on disk; a worker shares this process's binary.
 * Used only at exit, and only when spans are left to send.
 */
import { Worker } from 'node:worker_threads';

/** What to send, where, and how long to wait. */
export interface SyncPost {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  timeoutMs: number;
}

// Plain CommonJS run by the worker: POST, then store the status (or -1) and wake the waiting thread.
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { url, headers, body, timeoutMs, signal } = workerData;
const done = (status) => { Atomics.store(signal, 0, status); Atomics.notify(signal, 0); };
try {
  const client = url.startsWith('https:') ? require('node:https') : require('node:http');
  const req = client.request(url, { method: 'POST', headers: { ...headers, 'content-length': body.byteLength }, timeout: timeoutMs }, (res) => {
    res.resume();
    res.on('end', () => done(res.statusCode || -1));
    res.on('error', () => done(-1));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => done(-1));
  req.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
} catch {
  done(-1);
}
`;

/** Sends `post` and waits for the answer; returns the HTTP status, or null on a network error or at the deadline. */
export function postSync(post: SyncPost): number | null {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ...post, signal }, stdout: true, stderr: true });
  worker.unref();
  try {
    Atomics.wait(signal, 0, 0, post.timeoutMs);
  } finally {
    void worker.terminate();
  }
  const status = Atomics.load(signal, 0);
  return status > 0 ? status : null;
}
