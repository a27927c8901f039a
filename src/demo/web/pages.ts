/**
 * The CVD web UI: a login page and a small single-page app (device list with
 * search, device detail, a price-change form, a sales export), written as a
 * user of cvd-activity writes pages without a bundler: one <script> tag for the
 * prebuilt browser module, and data- attributes on what is worth counting.
 */
import { readFileSync } from 'node:fs';
import { APP_SCRIPT } from './appScript';

/** Where the prebuilt browser module is served, and where it posts. */
export const BROWSER_SCRIPT_PATH = '/cvd-activity/browser.js';
export const BROWSER_ENDPOINT_PATH = '/cvd-activity/browser';

const STYLE = `body{font-family:sans-serif;margin:2rem;max-width:48rem}nav a{margin-right:1rem}
li{padding:.4rem 0}#devices li{min-height:3rem}.error{color:#b00}`;

/** A page with the browser module: deferred, so it never holds up the page's parsing. */
function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title} · CVD Operations</title>
<meta name="viewport" content="width=device-width,initial-scale=1"><style>${STYLE}</style>
<script src="${BROWSER_SCRIPT_PATH}" data-endpoint="${BROWSER_ENDPOINT_PATH}" defer></script>
</head><body><h1>CVD fleet operations</h1>${body}</body></html>`;
}

const LOGIN = page('Sign in', `
<form id="login" data-activity-form="login">
  <p><label>User <input name="username" autocomplete="username" required></label></p>
  <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
  <p><button type="submit">Sign in</button> <span id="login-error" class="error"></span></p>
</form>
<script>${APP_SCRIPT.login}</script>`);

const APP = page('Fleet', `
<nav><a href="/app/devices" data-link>Devices</a><a href="/app/prices" data-link>Prices</a>
<button id="export" data-activity="export-csv">Export sales (CSV)</button>
<button id="map" data-activity="fleet-map">Fleet map</button></nav>
<main id="view"></main>
<script>${APP_SCRIPT.app}</script>`);

/** The prebuilt browser module, read once from the installed package (`cvd-activity/browser/script`). */
let browserScript: string | undefined;
function browserModule(): string {
  browserScript ??= readFileSync(require.resolve('cvd-activity/browser/script'), 'utf8');
  return browserScript;
}

/** The page or script for a GET of `path`, or undefined when it is not one of the web UI's. */
export function webPage(path: string): { type: string; body: string } | undefined {
  if (path === '/login') return { type: 'text/html; charset=utf-8', body: LOGIN };
  if (path === '/app' || path.startsWith('/app/')) return { type: 'text/html; charset=utf-8', body: APP };
  if (path === BROWSER_SCRIPT_PATH) return { type: 'text/javascript; charset=utf-8', body: browserModule() };
  return undefined;
}
