import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(__dirname, '..', '..');

describe('audit/record types (tsc)', () => {
  it('compiles valid calls and rejects misspelt, missing and mistyped detail fields at compile time', async function () {
    this.timeout(120_000);
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', join(__dirname, 'types', 'tsconfig.json')], { cwd: root }).then(
      () => ({ code: 0, out: '' }),
      (err: { code: number; stdout: string }) => ({ code: err.code, out: err.stdout }),
    );
    // Unused @ts-expect-error directives (a call that should not compile but did) fail here too.
    expect(result.out).to.equal('');
    expect(result.code).to.equal(0);
  });
});
