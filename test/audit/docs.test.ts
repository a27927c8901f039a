import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinCatalog } from '../../src/audit/catalog/index';
import { renderCatalogMarkdown } from '../../src/audit/catalog/markdown';

describe('docs/audit-events.md', () => {
  const committed = readFileSync(join(__dirname, '..', '..', 'docs', 'audit-events.md'), 'utf8');

  it('is exactly what the catalog renders (run `npm run docs:audit` after changing the catalog)', () => {
    expect(committed === renderCatalogMarkdown(), 'docs/audit-events.md is stale: run npm run docs:audit').to.equal(true);
  });

  it('documents every action with its example', () => {
    for (const name of Object.keys(builtinCatalog)) {
      expect(committed).to.include(`### ${name}\n`).and.include(`audit.record('${name}', `);
    }
  });
});
