/**
 * `node --import cvd-activity/register app.mjs`: registers
 * import-in-the-middle's loader hook (once, and not when the app already runs
 * one via --loader / --experimental-loader), so ESM imports of `node:http`
 * are patched, then starts activity tracking before the app loads.
 */
import { register } from 'node:module';
import { createAddHookMessageChannel } from 'import-in-the-middle';
import startModule from './start.js';

const kHook = Symbol.for('cvd-activity.esm-hook');
const g = globalThis as typeof globalThis & { [kHook]?: boolean };

const loaderFlags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
const hasLoader = loaderFlags.some((arg) => /^--(experimental-)?loader(=|$)/.test(arg));

if (hasLoader || g[kHook]) {
  startModule.startSync();
} else {
  g[kHook] = true;
  const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
  register('import-in-the-middle/hook.mjs', import.meta.url, registerOptions);
  startModule.startSync();
  // The app's imports must not run before the loader knows which modules to patch.
  await waitForAllMessagesAcknowledged();
}
