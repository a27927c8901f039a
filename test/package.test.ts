// package.json says what users install: every runtime dependency must be used
// by the package's own code (src/), test-only packages are devDependencies,
// and nothing is listed twice.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';

const ROOT = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mts)$/.test(name) ? [readFileSync(path, 'utf8')] : [];
  });
}

describe('package.json', () => {
  it('lists no package both as a dependency and as a devDependency', () => {
    expect(Object.keys(pkg.dependencies).filter((name) => name in pkg.devDependencies)).to.deep.equal([]);
  });

  it('has only runtime dependencies that src/ imports', () => {
    const code = sources(join(ROOT, 'src')).join('\n');
    const unused = Object.keys(pkg.dependencies).filter((name) => !new RegExp(`(from |import\\(|require\\()'${name}(/[^']*)?'`).test(code));
    expect(unused, 'move test-only packages to devDependencies, drop unused ones').to.deep.equal([]);
  });
});
