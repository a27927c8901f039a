import { expect } from 'chai';
import { alignColumns } from '../../src/cli/alignColumns';

describe('cli/alignColumns (every aligned table of the CLI)', () => {
  it('pads each column to its widest cell, two spaces apart, the last column unpadded', () => {
    expect(alignColumns([['id', 'state', 'note'], ['failed-logins', 'ok', ''], ['x', 'FIRING (2)', 'since 10:00']])).to.deep.equal([
      'id             state       note',
      'failed-logins  ok',
      'x              FIRING (2)  since 10:00',
    ]);
  });

  it('copes with short rows and no rows', () => {
    expect(alignColumns([['a', 'bb'], ['ccc']])).to.deep.equal(['a    bb', 'ccc']);
    expect(alignColumns([])).to.deep.equal([]);
  });
});
