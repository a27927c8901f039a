/** One page view: the first load or an SPA route change, with its own id and trace id. */
import type { WireEvent } from './types.js';

/** An event waiting to be sent, stamped with the page clock. */
export interface QueuedEvent extends Omit<WireEvent, 'ago'> {
  at: number;
}

function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  crypto.getRandomValues(buf);
  let out = '';
  for (const b of buf) out += b.toString(16).padStart(2, '0');
  return out;
}

/** A random span id for one outgoing call. */
export const newSpanId = (): string => randomHex(8);

export class PageView {
  readonly id = randomHex(8);
  /** The W3C trace id this page view's API calls carry. */
  readonly traceId = randomHex(16);
  readonly path: string;
  route: string | undefined;
  pending: QueuedEvent[] = [];
  /** Set once its end handlers ran (a page left and then restored from the back/forward cache ends once). */
  ended = false;

  /** `startedAt`: performance.now() when the page view began (0 for the document load: its navigation start). */
  constructor(path: string, route: string | undefined, readonly startedAt: number) {
    this.path = path.slice(0, 256) || '/';
    this.route = route;
  }
}
