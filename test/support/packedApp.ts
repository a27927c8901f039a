/**
 * The package as users install it: `npm pack` once per test run, then fresh
 * app folders (test/fixtures/packaging copied in) where npm (hoisted or
 * nested) or pnpm installs the tarball next to the app's own
 * @opentelemetry/api. Each install is made once per run and reused; downloads
 * come from the local caches where they can (--prefer-offline). pnpm itself is
 * installed from the npm registry into .cache/pnpm on first use.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FIXTURES, ROOT } from './childApp';

const run = promisify(execFile);

/** How the app's node_modules is laid out. */
export type Layout = 'npm-hoisted' | 'npm-nested' | 'pnpm';

const PNPM_VERSION = '12';
const PNPM_DIR = join(ROOT, '.cache', 'pnpm');
const PNPM_STORE = join(ROOT, '.cache', 'pnpm-store');
const INSTALL_TIMEOUT_MS = 5 * 60_000;

let runDir: string | undefined;
let tarball: Promise<string> | undefined;
const installs = new Map<string, Promise<string>>();

function packagingRunDir(): string {
  runDir ??= mkdtempSync(join(tmpdir(), 'cvd-packaging-'));
  return runDir;
}

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The tarball `npm pack` makes of this checkout's dist/ (built by `npm test`). */
export function packedTarball(): Promise<string> {
  tarball ??= (async () => {
    if (!existsSync(join(ROOT, 'dist', 'register.js'))) throw new Error('dist/ is missing: run `npm run build` first');
    const [info] = JSON.parse(await npm(['pack', '--json', '--pack-destination', packagingRunDir()], ROOT)) as { filename: string }[];
    return join(packagingRunDir(), info.filename);
  })();
  return tarball;
}

/** The pnpm command, installed from the npm registry into .cache/pnpm when absent. */
async function pnpmCli(): Promise<string> {
  // pnpm >= 11 is a native executable; its install script puts it in place of the placeholder bin.
  const cli = join(PNPM_DIR, 'node_modules', '.bin', 'pnpm');
  if (!existsSync(cli)) {
    mkdirSync(PNPM_DIR, { recursive: true });
    writeFileSync(join(PNPM_DIR, 'package.json'), '{ "private": true, "allowScripts": { "pnpm": true } }\n');
    await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', `pnpm@${PNPM_VERSION}`], PNPM_DIR);
  }
  return cli;
}

async function install(layout: Layout, dir: string): Promise<void> {
  const common = ['--prefer-offline'];
  if (layout === 'pnpm') {
    // pnpm >= 11 fails an install whose dependencies have build scripts it was not told
    // about (protobufjs's postinstall, which the exporters do not need); users answer the same way.
    writeFileSync(join(dir, 'pnpm-workspace.yaml'), 'strictDepBuilds: false\n');
    await run(await pnpmCli(), ['install', ...common, '--store-dir', PNPM_STORE], { cwd: dir, timeout: INSTALL_TIMEOUT_MS });
  } else {
    await npm(['install', '--no-audit', '--no-fund', ...common, ...(layout === 'npm-nested' ? ['--install-strategy=nested'] : [])], dir);
  }
}

/**
 * A fresh app folder holding the packaging fixtures, with cvd-activity from
 * the packed tarball and @opentelemetry/api `apiVersion` as its dependencies,
 * installed with `layout`. Made once per (layout, version) in a test run.
 */
export function installedApp(o: { layout: Layout; apiVersion: string }): Promise<string> {
  const key = `${o.layout}-api-${o.apiVersion}`;
  let made = installs.get(key);
  if (!made) {
    made = (async () => {
      const dir = join(packagingRunDir(), key);
      cpSync(join(FIXTURES, 'packaging'), dir, { recursive: true });
      const dependencies = { 'cvd-activity': `file:${await packedTarball()}`, '@opentelemetry/api': o.apiVersion };
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop', private: true, dependencies }, null, 2));
      await install(o.layout, dir);
      return dir;
    })();
    installs.set(key, made);
  }
  return made;
}

/** The oldest and the newest published @opentelemetry/api that the package's peer range accepts (one entry when they are the same). */
export async function supportedApiVersions(): Promise<string[]> {
  const { peerDependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { peerDependencies: Record<string, string> };
  const range = peerDependencies['@opentelemetry/api'];
  const published = JSON.parse(await npm(['view', `@opentelemetry/api@${range}`, 'version', '--json', '--prefer-offline'], ROOT)) as string | string[];
  const versions = (Array.isArray(published) ? published : [published]).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return [...new Set([versions[0], versions[versions.length - 1]])];
}

/** Removes every app folder and the tarball of this run. */
export function removePackagingRun(): void {
  if (runDir) rmSync(runDir, { recursive: true, force: true });
  runDir = undefined;
  tarball = undefined;
  installs.clear();
}
