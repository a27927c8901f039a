import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import fc from 'fast-check';
import { canonicalJson, chainHash, chainHashOfOwnRow, hashInput, PiiHasher, storableText } from '../../src/store/canonicalEncoding';
import { completeRow, identifyRow } from '../../src/store/rows';
import { auditRecord, TEST_PII_KEY } from '../support/auditRecords';

describe('store/canonicalEncoding: canonical JSON, the row hash, the personal-data HMAC', () => {
  it('canonical JSON sorts keys by UTF-16 code units at every level, integer-like keys included', () => {
    expect(canonicalJson({ b: 1, '10': [{ z: null, a: 'x' }], '9': true, a: undefined, é: 1e21 }))
      .to.equal('{"10":[{"a":"x","z":null}],"9":true,"b":1,"é":1e+21}');
  });

  it('canonical JSON survives a parse round trip and ignores key order (property)', () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => {
      const text = canonicalJson(value);
      expect(canonicalJson(JSON.parse(text))).to.equal(text);
      const reversed = JSON.parse(text, (_k, v) => (v && typeof v === 'object' && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).reverse()) : v));
      expect(canonicalJson(reversed)).to.equal(text);
    }), { numRuns: 300 });
  });

  it('makes NUL and lone surrogates storable, leaving valid text alone', () => {
    expect(storableText('a\0b\ud800c\udc00 \ud83d\ude00')).to.equal('a\uFFFDb\uFFFDc\uFFFD \ud83d\ude00');
    expect(canonicalJson({ 'k\0': ['\udfff'] })).to.equal('{"k\uFFFD":["\uFFFD"]}');
    expect(canonicalJson({ '\ud800a': 1, b: 2 })).to.equal('{"b":2,"\uFFFDa":1}'); // sorted as stored, not as sent
    expect(canonicalJson({ backslash: '\\u0000 is text' })).to.equal('{"backslash":"\\\\u0000 is text"}');
  });

  it('PiiHasher gives the standard HMAC-SHA256', () => {
    const hasher = new PiiHasher(TEST_PII_KEY);
    const message = '["e",null,"ua",{"username":"alice"}]';
    expect(hasher.hmac('e', null, 'ua', '{"username":"alice"}')).to.equal(createHmac('sha256', TEST_PII_KEY).update(message).digest('hex'));
    const longKey = Buffer.alloc(100, 7);
    expect(new PiiHasher(longKey).hmac('e', null, 'ua', '{}')).to.equal(createHmac('sha256', longKey).update('["e",null,"ua",{}]').digest('hex'));
  });

  it('PiiHasher reused for messages of any length and text gives the standard HMAC each time (property)', () => {
    const hasher = new PiiHasher(TEST_PII_KEY);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 1500 }), fc.option(fc.string()), (ua, address) => {
        const message = `[${JSON.stringify('e')},${JSON.stringify(address)},${JSON.stringify(ua)},{}]`;
        expect(hasher.hmac('e', address, ua, '{}')).to.equal(createHmac('sha256', TEST_PII_KEY).update(message, 'utf8').digest('hex'));
      }),
      { numRuns: 300 },
    );
    // A message longer than the hasher's scratch buffer, then a short one after it grew.
    for (const ua of ['é🍫'.repeat(2000), 'short']) {
      const message = `["e",null,${JSON.stringify(ua)},{}]`;
      expect(hasher.hmac('e', null, ua, '{}')).to.equal(createHmac('sha256', TEST_PII_KEY).update(message, 'utf8').digest('hex'));
    }
  });

  it("the writer's hash of its own rows equals the one verify computes, byte for byte (property)", () => {
    const hasher = new PiiHasher(TEST_PII_KEY);
    fc.assert(
      fc.property(fc.string(), fc.option(fc.string()), fc.option(fc.integer()), fc.boolean(), (reason, userAgent, affected, first) => {
        const record = auditRecord({ reason, affectedRecords: affected, personal: { clientAddress: null, userAgent, fields: { note: reason } } });
        const row = completeRow(identifyRow(record, 0), hasher);
        row.recordedAt = new Date(0).toISOString();
        const link = { streamId: 'cvd:"s"\\', seq: 7, prevHash: first ? null : 'ab'.repeat(32) };
        expect(chainHashOfOwnRow(link, row)).to.equal(chainHash(link, row));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes a fixed tuple that changes with every field, seq and previous hash', () => {
    const row = completeRow(identifyRow(auditRecord(), 0), new PiiHasher(TEST_PII_KEY));
    row.recordedAt = '2026-11-25T12:00:00.000Z';
    const link = { streamId: 's', seq: 1, prevHash: null };
    const input = hashInput(link, row);
    expect(input.startsWith(`["cvd-audit/1","s",1,null,"${row.eventId}","${row.createdAt}","2026-11-25T12:00:00.000Z","PRICE_CHANGE",`)).to.equal(true);
    const base = chainHash(link, row);
    expect(base).to.match(/^[0-9a-f]{64}$/);
    expect(chainHash({ ...link, seq: 2 }, row)).to.not.equal(base);
    expect(chainHash({ ...link, prevHash: base }, row)).to.not.equal(base);
    for (const key of Object.keys(row) as Array<keyof typeof row>) {
      if (key === 'personal') continue;
      const changed = { ...row, [key]: typeof row[key] === 'boolean' ? !row[key] : key === 'schemaErrors' ? ['x'] : key === 'affectedRecords' ? 99 : key === 'details' ? '{"x":1}' : 'changed' };
      expect(chainHash(link, changed), key).to.not.equal(base);
    }
  });
});
