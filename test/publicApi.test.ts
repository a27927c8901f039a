// What docs/ tells users to call must be importable from the package itself.
import { expect } from 'chai';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const requireFromRoot = createRequire(join(__dirname, '..', 'package.json'));

describe('public API (the built package, as users import it)', () => {
  it('exports the retention and erasure functions docs/audit-trail.md documents', () => {
    const api = requireFromRoot('cvd-activity') as Record<string, unknown>;
    expect(api.dropPartitionsBefore).to.be.a('function');
    expect(api.erasePersonalData).to.be.a('function');
  });
});
