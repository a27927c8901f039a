/**
 * The prebuilt script for pages without a bundler:
 *   <script src="/cvd-activity/browser.js" data-endpoint="/cvd-activity/browser" defer></script>
 * Starts everything with the options in its data- attributes and exposes the
 * handle as `window.cvdActivity` (setRoute, searchResults, formInvalid, feature).
 */
import { startBrowserActivity } from './index.js';
import type { BrowserActivityOptions } from './types.js';

const tag = document.currentScript as HTMLScriptElement | null;
const data = tag?.dataset ?? {};
const options: BrowserActivityOptions = {};
if (data.endpoint) options.endpoint = data.endpoint;
if (data.sampleRate) options.sampleRate = Number(data.sampleRate);
if (data.route) options.route = data.route;
if (data.traceApiCalls === 'false') options.traceApiCalls = false;
(window as unknown as { cvdActivity: unknown }).cvdActivity = startBrowserActivity(options);
