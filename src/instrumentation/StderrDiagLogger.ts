/**
 * diag lines on stderr, at every level. The api's DiagConsoleLogger writes
 * info/debug/verbose through console.log/info/debug, that is to stdout, where
 * many apps write the structured JSON logs a parser reads: one line of ours
 * there breaks their pipeline. stderr is where a library's own voice belongs.
 */
import type { DiagLogFunction, DiagLogger } from '@opentelemetry/api';
import { format } from 'node:util';

const toStderr: DiagLogFunction = (message, ...args) => {
  try {
    process.stderr.write(`${format(message, ...args)}\n`);
  } catch {
    // stderr closed (EPIPE): there is nowhere left to say anything.
  }
};

/** A DiagLogger that writes each message, whatever its level, as one line on process.stderr. */
export class StderrDiagLogger implements DiagLogger {
  readonly error = toStderr;
  readonly warn = toStderr;
  readonly info = toStderr;
  readonly debug = toStderr;
  readonly verbose = toStderr;
}
