import { expect } from 'chai';
import { LoginFailureCounter } from '../../src/audit/LoginFailureCounter';
import { FailedLogins } from '../../src/audit/FailedLogins';

describe('audit/LoginFailureCounter', () => {
  it('counts within a sliding window and forgets what slid out', () => {
    let now = 0;
    const counter = new LoginFailureCounter({ windowMs: 300_000, now: () => now });
    expect([counter.hit('a'), counter.hit('a'), counter.hit('b')]).to.deep.equal([1, 2, 1]);
    now = 200_000;
    expect(counter.hit('a')).to.equal(3);
    now = 320_000; // the first two (t=0) are out, the one at t=200 s is in
    expect(counter.hit('a')).to.equal(2);
    now = 10_000_000;
    expect(counter.hit('a')).to.equal(1);
  });

  it('keeps at most maxKeys keys, evicting the least recently failed', () => {
    const counter = new LoginFailureCounter({ windowMs: 60_000, maxKeys: 100, now: () => 5 });
    counter.hit('keep');
    for (let i = 0; i < 1000; i++) {
      counter.hit(`attacker-${i}`);
      if (i % 50 === 0) counter.hit('keep'); // recently failed again: stays
    }
    expect(counter.size).to.equal(100);
    expect(counter.hit('keep')).to.equal(22);
    expect(counter.hit('attacker-0')).to.equal(1); // evicted, counted afresh
  });
});

describe('audit/FailedLogins (LOGIN_FAILED fields, before start() and after)', () => {
  it('counts per user name and per address, and says when either reached the limit', () => {
    const logins = new FailedLogins({ windowMs: 60_000, maxAttempts: 3, now: () => 1_000 });
    expect(logins.fields({ username: 'ann' }, '10.0.0.1')).to.deep.equal({
      details: { username: 'ann', attempt_count: 1, max_attempts: 3, address_attempt_count: 1, limit_reached: false }, outcome: 'failure', reason: null,
    });
    logins.fields({ username: 'bob', reason: 'bad_password' }, '10.0.0.1');
    const third = logins.fields({ username: 'cy', clientAddress: '10.0.0.1' }, null);
    expect(third.details).to.include({ attempt_count: 1, address_attempt_count: 3, limit_reached: true });
    expect(logins.fields({ username: 'ann' }, null).details).to.deep.equal({ username: 'ann', attempt_count: 2, max_attempts: 3, limit_reached: false });
  });
});
