// Mocha root hooks shared by every test file.
import { stopTestDatabase } from './support/database';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopTestDatabase();
  },
};
