/** Replaces this bench's own marked section of bench/RESULTS.md, leaving the other benches' sections alone. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FILE = join(__dirname, '..', 'RESULTS.md');

/** Writes `markdown` between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, appending the section if it is new. */
export function writeResultsSection(name: string, markdown: string): void {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const section = `${open}\n${markdown.trim()}\n${close}`;
  const current = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '# Benchmark results\n\nEach section is written by its bench script; numbers are from one run on a shared machine.\n';
  const start = current.indexOf(open);
  const end = current.indexOf(close);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + section + current.slice(end + close.length)
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, next);
}
