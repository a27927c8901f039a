import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { GENERATED_PATH, generateConfigValidator } from '../../scripts/generate-config-validator';

describe('config: generated validator', () => {
  it('is up to date with src/config/schema.ts (run `npm run generate:config` if not)', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8') === generateConfigValidator(), 'validateConfig.generated.ts is stale').to.equal(true);
  });
});
