/**
 * The web UI's own scripts (plain ES2020, inlined in the pages). What they show
 * of cvd-activity: `cvdActivity.setRoute()` after each route change, and
 * `cvdActivity.searchResults()` once the search answer is in. The "Fleet map"
 * button has a deliberate bug (an uncaught error) so error recovery has
 * something to count.
 */

const LOGIN = `
document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const res = await fetch('/api/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: form.get('username'), password: form.get('password') }),
  });
  if (res.ok) location.href = '/app/devices';
  else document.getElementById('login-error').textContent = 'Wrong user or password';
});
document.addEventListener('DOMContentLoaded', () => window.cvdActivity && cvdActivity.setRoute('/login'));`;

const APP = `
const view = document.getElementById('view');
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => '&#' + c.charCodeAt(0) + ';');
const api = async (path, init) => {
  const res = await fetch(path, init);
  if (res.status === 401) { location.href = '/login'; throw new Error('signed out'); }
  return res;
};
const deviceItems = (devices) => devices.map((d) =>
  '<li data-activity-result><a href="/app/devices/' + esc(d.id) + '" data-link>' + esc(d.name) + '</a> ' + esc(d.status) + '</li>').join('');

async function devices() {
  view.innerHTML = '<form data-activity-search="devices"><input type="search" name="q" placeholder="Device or site">' +
    ' <button>Search</button></form><p id="count"></p><ul id="devices" data-activity-results="devices"></ul>';
  const list = await (await api('/api/devices?limit=500')).json();
  document.getElementById('devices').innerHTML = deviceItems(list.devices);
  view.querySelector('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const q = new FormData(e.target).get('q');
    const found = await (await api('/api/devices?limit=500&q=' + encodeURIComponent(q))).json();
    document.getElementById('devices').innerHTML = deviceItems(found.devices);
    document.getElementById('count').textContent = found.total + ' devices';
    window.cvdActivity && cvdActivity.searchResults('devices', found.total);
  });
}

async function device(id) {
  const d = await (await api('/api/devices/' + encodeURIComponent(id))).json();
  view.innerHTML = '<h2>' + esc(d.name) + '</h2><p>Status: ' + esc(d.status) + '</p><p><a href="/app/devices" data-link>Back</a></p>';
}

async function prices() {
  const products = await (await api('/api/products')).json();
  view.innerHTML = '<form data-activity-form="price-change"><p><label>Product <select name="product" required>' +
    products.map((p) => '<option value="' + esc(p.id) + '">' + esc(p.name) + '</option>').join('') + '</select></label></p>' +
    '<p><label>New price (cents) <input name="priceCents" type="number" min="1" max="100000" required></label></p>' +
    '<p><button>Change price</button> <span id="price-result"></span></p></form>';
  view.querySelector('form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const res = await api('/api/products/' + encodeURIComponent(form.get('product')) + '/price', {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ priceCents: Number(form.get('priceCents')) }),
    });
    document.getElementById('price-result').textContent = res.ok ? 'Saved' : 'Not saved';
  });
}

const ROUTES = [
  [/^\\/app\\/devices$/, '/app/devices', devices],
  [/^\\/app\\/devices\\/([^/]+)$/, '/app/devices/:id', device],
  [/^\\/app\\/prices$/, '/app/prices', prices],
];

function render() {
  for (const [pattern, template, show] of ROUTES) {
    const m = pattern.exec(location.pathname);
    if (!m) continue;
    window.cvdActivity && cvdActivity.setRoute(template);
    return show(...m.slice(1).map(decodeURIComponent));
  }
  history.replaceState(null, '', '/app/devices');
  return render();
}

document.addEventListener('click', (e) => {
  const link = e.target.closest('a[data-link]');
  if (!link) return;
  e.preventDefault();
  history.pushState(null, '', link.getAttribute('href'));
  render();
});
addEventListener('popstate', render);
document.getElementById('export').addEventListener('click', async () => {
  const res = await api('/api/reports/sales/export?format=csv');
  const url = URL.createObjectURL(await res.blob());
  Object.assign(document.createElement('a'), { href: url, download: 'sales.csv' }).click();
  URL.revokeObjectURL(url);
});
document.getElementById('map').addEventListener('click', () => {
  const tiles = undefined;
  return tiles.length; // the demo's deliberate bug: an uncaught TypeError
});
document.addEventListener('DOMContentLoaded', render);`;

/** The inline scripts of the two pages. */
export const APP_SCRIPT = { login: LOGIN, app: APP } as const;
