// Every command the README marks runnable (a `<!-- runnable -->` line before
// a ```sh block) works as written from a fresh clone: the blocks run, in
// order, in a copy of the repository's files without node_modules, dist or any
// state, with no database or OpenTelemetry settings in the environment.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { expect } from 'chai';

const ROOT = join(__dirname, '..');
const MARKER = '<!-- runnable -->';

/** The shell blocks marked runnable, in README order. */
export function runnableBlocks(markdown: string): string[] {
  const blocks: string[] = [];
  const pattern = new RegExp(`${MARKER}\\s*\\n\`\`\`sh\\n([\\s\\S]*?)\\n\`\`\``, 'g');
  for (const match of markdown.matchAll(pattern)) blocks.push(match[1]!);
  return blocks;
}

/** The repository's files as a clone has them: tracked and new ones, nothing git ignores. */
function copyRepository(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0').filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(to, file)), { recursive: true });
    try {
      copyFileSync(join(ROOT, file), join(to, file));
    } catch {
      // deleted in the work tree but not yet in the index: a clone would not have it either
    }
  }
}

function runBlock(script: string, cwd: string): Promise<{ code: number | null; output: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(CVD_ACTIVITY_|OTEL_|PG[A-Z]+$|DATABASE_URL$|NODE_OPTIONS$|npm_)/.test(k)) env[k] = v;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-eo', 'pipefail', '-c', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (code) => resolve({ code, output }));
  });
}

describe('README: the commands marked runnable work from a fresh clone', function () {
  this.timeout(20 * 60_000);
  const blocks = runnableBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
  let clone: string;

  before(() => {
    clone = mkdtempSync(join(tmpdir(), 'cvd-readme-'));
    chmodSync(clone, 0o755); // as `git clone` leaves it (mkdtemp makes it 0700, which the demo's postgres user cannot enter)
    copyRepository(clone);
  });
  after(() => {
    // The demo's embedded server stops with the demo; its data goes with the folder.
    rmSync(clone, { recursive: true, force: true });
  });

  it('has runnable blocks: the install-and-demo line first', () => {
    expect(blocks.length).to.be.at.least(2);
    expect(blocks[0]).to.equal('npm install && npm run demo');
  });

  it('runs each block, in order, exiting 0', async () => {
    for (const block of blocks) {
      const { code, output } = await runBlock(block, clone);
      expect(code, `README block failed:\n${block}\n--- output (tail) ---\n${output.slice(-4000)}`).to.equal(0);
    }
  });
});
