// Start-up cost: building the registry (every start() does) must not compile
// the ~50 catalog schemas; each action's validator is compiled on its first
// use, once, and validates exactly as before.
import { Ajv } from 'ajv';
import { expect } from 'chai';
import { ActionRegistry } from '../../src/audit/ActionRegistry';
import { builtinCatalog } from '../../src/audit/catalog/index';

describe('audit/ActionRegistry: validators compiled lazily, per action', () => {
  const compile = Ajv.prototype.compile;
  let compiled: unknown[] = [];
  beforeEach(() => {
    compiled = [];
    Ajv.prototype.compile = function (this: Ajv, schema: unknown, meta?: boolean) {
      compiled.push(schema);
      return compile.call(this, schema as object, meta);
    } as typeof compile;
  });
  afterEach(() => {
    Ajv.prototype.compile = compile;
  });

  it('compiles no schema when built, and one action\'s schema once, on its first validation', () => {
    const registry = new ActionRegistry();
    expect(compiled).to.have.length(0);
    expect(registry.list()).to.have.length(Object.keys(builtinCatalog).length);
    const price = registry.get('PRICE_CHANGE')!;
    expect(price.validate(builtinCatalog.PRICE_CHANGE!.example.details)).to.equal(true);
    expect(price.validate({ nonsense: 1 })).to.equal(false);
    expect(registry.get('PRICE_CHANGE')!.validate({})).to.equal(false);
    expect(compiled).to.deep.equal([builtinCatalog.PRICE_CHANGE!.details]);
  });
});
