// What the bench scripts share: the median they report, and the one writer of
// bench/RESULTS.md. Each bench script owns a marked section
// (`<!-- bench:NAME -->` … `<!-- /bench:NAME -->`) and replaces only that one,
// so the scripts share the page and a re-run refreshes just its own numbers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FILE = join(dirname(fileURLToPath(import.meta.url)), 'RESULTS.md');
const HEADER = '# Benchmark results\n\nEach section is written by the bench script it names, from one run on this 2-core machine; re-run a script to refresh its section. Compare ratios within a section: absolute numbers move with the machine\'s load.\n';

/** Writes `body` as section `name` of bench/RESULTS.md (appended when new); returns the file's path. */
export function writeResultsSection(name, body) {
  const open = `<!-- bench:${name} -->`;
  const close = `<!-- /bench:${name} -->`;
  const section = `${open}\n${body.trim()}\n${close}`;
  const current = existsSync(FILE) ? readFileSync(FILE, 'utf8') : HEADER;
  const start = current.indexOf(open);
  const end = current.indexOf(close);
  const next = start >= 0 && end > start
    ? current.slice(0, start) + section + current.slice(end + close.length)
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(FILE, next);
  return FILE;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
