/**
 * A day of a vending-fleet back office compressed into seconds: drivers
 * working their service orders, managers changing prices and planograms, a
 * dashboard polling, health checks and page loads, and the incidents the
 * audit trail exists for — a brute-force login burst from one address, a bulk
 * update, an export of more than 10,000 records, a viewer escalated to admin.
 * Deterministic for a seed; paced, bounded by time, loopback only.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Actor, Client, type Tally } from './client';
import { prng } from './api/fleet';
import { operations } from './operations';
import { browserSessions, type BrowserTally } from './browserSessions';

/** Options of one simulation run. */
export interface SimulationOptions {
  /** The demo API, e.g. http://127.0.0.1:3000 (loopback only). */
  baseUrl: string;
  /** How long the day lasts (ms). */
  durationMs: number;
  /** Seed of every random choice. */
  seed?: number;
  /** Pace of the business operations (requests per second), besides polling and health checks. */
  operationsPerSecond?: number;
  /** Called about once a second. */
  onProgress?: (p: { elapsedMs: number; requests: number; phase: string }) => void;
  /** Stops the run early. */
  signal?: AbortSignal;
}

/** What happened, for the summary and the tests. */
export interface SimulationReport extends Tally {
  durationMs: number;
  bruteForce: { ip: string; username: string; attempts: number };
  largeExport: { records: number; bytes: number };
  escalation: { user: string; from: string; to: string };
  bulkUpdate: { records: number };
  /** Web UI sessions, sent as cvd-activity/browser sends them. */
  browser: BrowserTally;
}

/** Addresses from the documentation ranges (RFC 5737), so the demo never names a real host. */
export const ATTACKER_IP = '203.0.113.66';
const UA_WEB = 'Mozilla/5.0 (X11; Linux x86_64) CVD-Ops/2.4';
const UA_APP = 'CVD-Driver-App/5.1 (Android 14)';
/** Browsers of the web UI's users (the endpoint reads browser, OS and device class from these). */
const UA_BROWSERS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.2 Mobile/15E148 Safari/604.1',
];

/** Runs the simulation until `durationMs` has passed and every incident has happened once. */
export async function simulate(options: SimulationOptions): Promise<SimulationReport> {
  const client = new Client(options.baseUrl);
  const rand = prng(options.seed ?? 42);
  const started = Date.now();
  const deadline = started + options.durationMs;
  const pause = 1000 / Math.max(1, options.operationsPerSecond ?? 25);
  const stopped = (): boolean => Date.now() >= deadline || options.signal?.aborted === true;
  let phase = 'morning logins';

  const actor = (name: string, ip: string, ua = UA_WEB): Actor => ({ name, ip, userAgent: ua });
  const people = {
    alice: actor('alice', '198.51.100.10'), mona: actor('mona', '198.51.100.11'), victor: actor('victor', '198.51.100.40'),
    dan: actor('dan', '198.51.100.21', UA_APP), dora: actor('dora', '198.51.100.22', UA_APP), diego: actor('diego', '198.51.100.23', UA_APP),
  };
  const dashboard = actor('alice', '198.51.100.10');
  const monitor = actor('uptime-probe', '198.51.100.250', 'kube-probe/1.30');

  for (const person of Object.values(people)) {
    const res = await client.send(person, 'POST', '/api/auth/login', { json: { username: person.name, password: `${person.name}-demo` }, audit: 'LOGIN' });
    person.token = (res.body as { token?: string } | null)?.token;
  }
  dashboard.token = people.alice.token;
  await client.send(dashboard, 'GET', '/api/admin/activity', { audit: 'VIEW_ACTIVITY_MONITOR' });

  // Background lanes: the dashboard polls, the probe checks health, browsers load pages.
  const lanes = [
    repeat(2000, deadline, stopped, () => client.send(dashboard, 'GET', '/api/admin/activity/alerts')),
    repeat(1000, deadline, stopped, () => client.send(monitor, 'GET', '/health')),
    repeat(3000, deadline, stopped, async () => {
      for (const path of ['/', '/static/app.js', '/static/style.css', '/static/logo.svg']) await client.send(people.mona, 'GET', path);
    }),
  ];

  // The web UI's users in their browsers: their own random source, so the API operations stay as they were.
  const browserRand = prng((options.seed ?? 42) + 1);
  const browsers = browserSessions(client, browserRand);
  const webUsers = [people.alice, people.mona, people.victor];
  let visit = 0;
  lanes.push(repeat(2500, deadline, stopped, () => {
    const who = webUsers[visit % webUsers.length]!;
    const browser = { ...who, userAgent: UA_BROWSERS[visit++ % UA_BROWSERS.length]! };
    return browsers.session(browser);
  }));

  const ops = operations(client, people, rand);
  const incidents: Array<[number, string, () => Promise<unknown>]> = [
    [0.25, 'brute-force login burst', () => ops.bruteForce(ATTACKER_IP, 'admin', 12)],
    [0.45, 'bulk status update', () => ops.bulkUpdate()],
    [0.6, 'large export', () => ops.largeExport()],
    [0.75, 'escalation to admin', () => ops.escalate()],
  ];
  let tick = 0;
  while (!options.signal?.aborted && (Date.now() < deadline || incidents.length > 0)) {
    const due = incidents[0] && Date.now() - started >= incidents[0][0] * options.durationMs;
    if (due) {
      const [, name, run] = incidents.shift()!;
      phase = name;
      await run();
      phase = 'operations';
    } else if (Date.now() < deadline) {
      phase = 'operations';
      await ops.next();
    } else {
      await sleep(10);
    }
    if (++tick % Math.max(1, Math.round(1000 / pause)) === 0) {
      options.onProgress?.({ elapsedMs: Date.now() - started, requests: client.tally.requests, phase });
    }
    await sleep(pause);
  }
  await Promise.all(lanes);
  for (const person of Object.values(people)) await client.send(person, 'POST', '/api/auth/logout', { audit: 'LOGOUT' });
  options.onProgress?.({ elapsedMs: Date.now() - started, requests: client.tally.requests, phase: 'done' });
  return { ...client.tally, durationMs: Date.now() - started, ...ops.incidents, browser: browsers.tally };
}

/** Calls `fn` every `everyMs` until `deadline` (ms since epoch) or `stopped()`; never sleeps past the deadline. */
async function repeat(everyMs: number, deadline: number, stopped: () => boolean, fn: () => Promise<unknown>): Promise<void> {
  while (!stopped()) {
    await fn();
    await sleep(Math.max(0, Math.min(everyMs, deadline - Date.now())));
  }
}
