/**
 * The simulator's HTTP client: loopback only, one simulated client address per
 * actor (sent as X-Forwarded-For, which the demo server trusts from loopback),
 * and a tally of what was sent and which audit events the server should have
 * recorded for the requests that succeeded.
 */

/** One simulated person or machine talking to the API. */
export interface Actor {
  name: string;
  /** The client address this actor appears to come from. */
  ip: string;
  userAgent: string;
  token?: string;
}

/** What a simulation sent and what it expects the audit trail to hold. */
export interface Tally {
  requests: number;
  byStatus: Record<string, number>;
  /** Audit events the server records for the requests sent, by action. */
  expectedAudit: Record<string, number>;
  /** Requests that failed on the network (server gone, refused). */
  networkErrors: number;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Throws unless `baseUrl` is an http URL on a loopback address: the simulator never sends traffic elsewhere. */
export function assertLoopback(baseUrl: string): URL {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new Error(`simulator: base URL ${JSON.stringify(baseUrl)} is not a URL`);
  }
  if (url.protocol !== 'http:' || !LOOPBACK.has(url.hostname)) {
    throw new Error(`simulator: base URL ${baseUrl} must be http:// on a loopback address (127.0.0.1, localhost, ::1)`);
  }
  return url;
}

export class Client {
  readonly tally: Tally = { requests: 0, byStatus: {}, expectedAudit: {}, networkErrors: 0 };

  constructor(private readonly baseUrl: string, private readonly timeoutMs = 15_000) {
    assertLoopback(baseUrl);
  }

  /**
   * Sends one request as `actor`. `audit` names the action the server records
   * when the request succeeds (2xx); `auditOnFailure` one it records when it fails.
   */
  async send(
    actor: Actor, method: string, path: string,
    opts: { json?: unknown; text?: string; contentType?: string; audit?: string; auditOnFailure?: string; headers?: Record<string, string> } = {},
  ): Promise<{ status: number; body: unknown }> {
    const headers: Record<string, string> = { ...opts.headers, 'x-forwarded-for': actor.ip, 'user-agent': actor.userAgent };
    if (actor.token) headers.authorization = `Bearer ${actor.token}`;
    let payload: string | undefined;
    if (opts.json !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(opts.json);
    } else if (opts.text !== undefined) {
      headers['content-type'] = opts.contentType ?? 'text/plain';
      payload = opts.text;
    }
    this.tally.requests++;
    let res: Response;
    try {
      res = await fetch(new URL(path, this.baseUrl), { method, headers, body: payload, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch {
      this.tally.networkErrors++;
      return { status: 0, body: null };
    }
    const text = await res.text().catch(() => '');
    this.tally.byStatus[res.status] = (this.tally.byStatus[res.status] ?? 0) + 1;
    const ok = res.status >= 200 && res.status < 300;
    const action = ok ? opts.audit : opts.auditOnFailure;
    if (action) this.tally.expectedAudit[action] = (this.tally.expectedAudit[action] ?? 0) + 1;
    let body: unknown = text;
    if ((res.headers.get('content-type') ?? '').includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    return { status: res.status, body };
  }
}
