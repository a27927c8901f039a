/**
 * A validated batch from a browser → rows of `browser_events`. Who and where
 * come from the server (the user the app named with setUser(), the client
 * address under the trustProxy rules, the User-Agent header); the browser
 * supplies only what happened on its page.
 */
import type { WireBatch, WireEvent } from '../browser/types';
import type { BrowserEventRow } from '../store/BrowserEventWriter';
import type { ClientEnvironment } from './userAgent';

/** What the server knows about the sender. */
export interface Sender {
  userId: string | null;
  sessionId: string | null;
  clientAddress: string | null;
  environment: ClientEnvironment;
}

/** Free text (error messages) keeps no markup and no control characters: dashboards show it as it is. */
export function cleanText(text: string): string {
  return text.replace(/<[^>]*>?/g, '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

function details(e: WireEvent): Record<string, string | number> {
  const d: Record<string, string | number> = {};
  if (e.q !== undefined) d.q = cleanText(e.q);
  if (e.len !== undefined) d.len = e.len;
  if (e.f !== undefined) d.field = e.f;
  if (e.m !== undefined) d.message = cleanText(e.m);
  return d;
}

/** The rows of `batch`, received at `receivedAt`. */
export function toRows(batch: WireBatch, sender: Sender, receivedAt: Date): BrowserEventRow[] {
  const received = receivedAt.getTime();
  const rows: BrowserEventRow[] = [];
  for (const page of batch.pages) {
    for (const e of page.events) {
      rows.push({
        received_at: receivedAt.toISOString(),
        occurred_at: new Date(received - e.ago).toISOString(),
        type: e.t,
        user_id: sender.userId,
        session_id: sender.sessionId,
        page_view_id: page.id,
        trace_id: page.tid ?? null,
        // Never a query string or fragment: they carry search terms, tokens, ids.
        page: page.path.split(/[?#]/)[0],
        route: page.route ?? null,
        name: e.n ?? null,
        value: e.v ?? null,
        details: details(e),
        browser: sender.environment.browser,
        os: sender.environment.os,
        device: sender.environment.device,
        client_address: sender.clientAddress,
      });
    }
  }
  return rows;
}
