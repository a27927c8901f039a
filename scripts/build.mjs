// Builds dist/: compiles src/ to CommonJS with tsc, copies JSON assets, and
// writes the ESM entry point dist/index.mjs (dist/register.mjs is compiled from
// src/register.mts), so the package works from `require`, `import`,
// `--require` and `--import`.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { chmodSync, cpSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', root], { stdio: 'inherit' });

// Non-TypeScript assets that live beside the code (SQL migrations, JSON catalogs).
function copyAssets(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (/\.(sql|json)$/.test(name) && name !== 'tsconfig.json') cpSync(path, join(dist, relative(join(root, 'src'), path)));
  }
}
copyAssets(join(root, 'src'));

// ESM entry: re-export the CommonJS module's named exports explicitly, so one
// instance of the package serves both module systems (no dual-package hazard).
const require = createRequire(import.meta.url);
const names = Object.keys(require(join(dist, 'index.js'))).filter((n) => n !== 'default' && n !== '__esModule');
writeFileSync(
  join(dist, 'index.mjs'),
  `import cjs from './index.js';\nexport const { ${names.join(', ')} } = cjs;\nexport default cjs;\n`,
);

// The browser module (src/browser, DOM types, ESM): typed ESM for bundlers as
// `cvd-activity/browser`, and one minified script for pages without a bundler
// (web-vitals inside), served by the app: `cvd-activity/browser/script`.
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'src/browser')], { stdio: 'inherit' });
writeFileSync(join(dist, 'browser/package.json'), JSON.stringify({ type: 'module', sideEffects: ['./script.js'] }, null, 2) + '\n');
const esbuild = await import('esbuild');
await esbuild.build({
  entryPoints: [join(root, 'src/browser/script.ts')],
  outfile: join(dist, 'browser/cvd-activity-browser.js'),
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020'],
  legalComments: 'eof',
  sourcemap: 'linked',
  logLevel: 'warning',
});

// The CLI runs directly from a clone (npx cvd-activity …), not only after npm links it.
chmodSync(join(dist, 'cli/main.js'), 0o755);
