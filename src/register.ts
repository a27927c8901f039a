/**
 * `node --require cvd-activity/register app.js`: starts activity tracking
 * before the app loads. Configuration comes from the environment and the file
 * named by CVD_ACTIVITY_CONFIG; a bad configuration is reported in one stderr
 * line and the app runs uninstrumented.
 */
import { startSync } from './start';

startSync();
