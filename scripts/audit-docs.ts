// Writes docs/audit-events.md from the action catalog (run: npm run docs:audit).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCatalogMarkdown } from '../src/audit/catalog/markdown';

const target = join(__dirname, '..', 'docs', 'audit-events.md');
writeFileSync(target, renderCatalogMarkdown());
console.log(`wrote ${target}`);
