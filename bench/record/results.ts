// Replaces this bench's marked section of bench/RESULTS.md, leaving the other
// benches' sections alone (several scripts share the file).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const HEADER = '# Benchmark results\n\nEach section is written by the bench script it names; re-run a script to refresh its section.\n';

/** Writes `text` between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->` in bench/RESULTS.md. */
export function writeSection(name: string, text: string): void {
  const file = join(__dirname, '..', 'RESULTS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const block = `${start}\n${text.trim()}\n${end}`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, next);
}
