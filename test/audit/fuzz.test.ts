// Property test: whatever an app throws at record() in lenient mode, the call
// returns an id, never throws, and yields exactly one JSON-serializable event.
import { expect } from 'chai';
import fc from 'fast-check';
import { builtinCatalog } from '../../src/audit/catalog/index';
import { newRequestContext, runWithRequestContext, setUser } from '../../src/audit/context';
import { newTestRecorder } from '../support/audit';

const weirdKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '', ' ', 'password', 'API-Key', 'a.b', '💥', '\u0000');
const hugeString = fc.integer({ min: 17_000, max: 70_000 }).map((n) => 'x€'.repeat(n / 2));
const leaf = fc.oneof(
  fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withSparseArray: true, withNullPrototype: true, withObjectString: true, withBoxedValues: true }),
  hugeString,
  fc.constantFrom(NaN, Infinity, -0, undefined, Symbol('s'), () => 1, Buffer.from('buf'), new Date(NaN), 2n ** 80n, new Error('boom')),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(fc.oneof(weirdKeys, fc.string()), tie('tree'), { maxKeys: 5 })),
}));
/** Objects nested far deeper than any real payload (and than the normalizer keeps). */
const deep = fc.integer({ min: 30, max: 400 }).map((depth) => {
  let value: unknown = { password: 'p' };
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { ['__proto__']: value, level: i };
  return value;
});
const payload = fc.oneof(tree, deep);
const actions = fc.oneof(fc.constantFrom(...Object.keys(builtinCatalog)), fc.string(), fc.constantFrom('__proto__', 'constructor', 'PRODUCT_PRICE_CHANGE'));
const fields = fc.oneof(
  payload,
  fc.record(
    { details: payload, oldValue: payload, newValue: payload, resourceId: payload, resourceType: payload, affectedRecords: payload, outcome: payload, reason: payload, actor: payload },
    { requiredKeys: [] },
  ),
);

describe('audit/record fuzz (fast-check)', () => {
  it('lenient record() never throws and yields exactly one JSON-serializable event per call', () => {
    const { recorder, sink } = newTestRecorder({ strict: false, mirror: 'both', maxFieldBytes: 16 * 1024 });
    const ids = new Set<string>();
    fc.assert(
      fc.property(actions, fields, fc.boolean(), (action, input, inRequest) => {
        const before = sink.events.length;
        const call = () => recorder.record(action, input);
        const id = inRequest
          ? runWithRequestContext(newRequestContext('127.0.0.1', 'fuzz'), () => {
              setUser({ id: 'fuzzer' });
              return call();
            })
          : call();
        expect(sink.events.length).to.equal(before + 1);
        const event = sink.events[before]!;
        expect(event.eventId).to.equal(id);
        expect(ids.has(id)).to.equal(false);
        ids.add(id);
        const json = JSON.stringify(event);
        expect(JSON.parse(json)).to.deep.equal(event);
        expect(json).not.to.include('"password":"p"');
        for (const value of [event.oldValue, event.newValue, ...Object.values(event.details)]) {
          expect(Buffer.byteLength(JSON.stringify(value) ?? '')).to.be.at.most(16 * 1024);
        }
      }),
      { numRuns: 3000 },
    );
    sink.clear();
  });
});
