/** Replaces this bench's marked section of bench/RESULTS.md, leaving the other benches' sections alone. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes `body` between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, appending the section if absent. */
export function writeResultsSection(name: string, body: string): string {
  const file = join(__dirname, '..', 'RESULTS.md');
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const section = `${open}\n${body.trim()}\n${close}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\nEach section is written by its bench script; re-run a script to refresh its section.\n';
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  text = start >= 0 && end > start ? text.slice(0, start) + section + text.slice(end + close.length) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
  return file;
}
