/** The web front end's files, served from memory: the HTML shell, a script, a style sheet, an icon. */

const HTML = `<!doctype html><html><head><title>CVD Operations</title><link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script></head><body><h1>CVD fleet operations</h1><div id="app"></div></body></html>`;

/** Files by path, with their content type. */
export const STATIC_FILES: ReadonlyMap<string, { type: string; body: string }> = new Map([
  ['/', { type: 'text/html; charset=utf-8', body: HTML }],
  ['/static/app.js', { type: 'text/javascript', body: 'setInterval(() => fetch("/api/admin/activity/alerts"), 30000);\n'.repeat(40) }],
  ['/static/style.css', { type: 'text/css', body: 'body { font-family: sans-serif; margin: 2rem; }\n'.repeat(60) }],
  ['/static/logo.svg', { type: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16"/></svg>' }],
  ['/favicon.ico', { type: 'image/x-icon', body: 'ico' }],
]);
