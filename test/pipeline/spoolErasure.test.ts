import { expect } from 'chai';
import { blankStringValues } from '../../src/pipeline/spoolErasure';

describe('spool erasure: blanking personal values in place', () => {
  const personal = { clientAddress: '198.51.100.7', userAgent: 'Agent "quoted" \\ tab\t ü 🚀 \u0001', fields: { username: 'zoë' } };
  const old = Buffer.from(`"personal":${JSON.stringify(personal)}`, 'utf8');
  const blanked = blankStringValues(old);

  it('keeps keys and the length, and leaves no character of a value', () => {
    expect(blanked.length).to.equal(old.length);
    const parsed = JSON.parse(`{${blanked.toString('utf8')}}`).personal;
    expect(Object.keys(parsed)).to.deep.equal(['clientAddress', 'userAgent', 'fields']);
    expect(parsed.fields).to.have.keys('username');
    for (const v of [parsed.clientAddress, parsed.userAgent, parsed.fields.username]) expect(v).to.match(/^[ \\]*$/);
  });

  it('any mix of old and new bytes a torn read could see is still valid JSON', () => {
    // A concurrent reader sees new bytes up to some point and old ones after it, or the reverse.
    for (let cut = 0; cut <= old.length; cut++) {
      for (const mixed of [Buffer.concat([blanked.subarray(0, cut), old.subarray(cut)]), Buffer.concat([old.subarray(0, cut), blanked.subarray(cut)])]) {
        expect(() => JSON.parse(`{${mixed.toString('utf8')}}`), `cut at byte ${cut}`).not.to.throw();
      }
    }
  });
});
