import { expect } from 'chai';
import { currentRequestContext, newRequestContext, runWithRequestContext, setUser } from '../../src/audit/context';

describe('audit/context', () => {
  it('keeps the user set in a request for later async work of the same request', async () => {
    const seen = await runWithRequestContext(newRequestContext('10.0.0.1', 'ua'), async () => {
      setUser({ id: 'u1', roles: ['admin'] });
      await new Promise((r) => setTimeout(r, 1));
      return currentRequestContext()?.user?.id;
    });
    expect(seen).to.equal('u1');
  });

  it('ignores setUser outside any request', () => {
    setUser({ id: 'nobody' });
    expect(currentRequestContext()).to.equal(undefined);
  });
});
