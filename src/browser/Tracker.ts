/**
 * The core every collector plugs into: the current page view (first load and
 * History API route changes), a bounded queue of events, and the transport
 * (fetch keepalive on a timer, sendBeacon when the page is hidden or left).
 * Every listener runs inside a guard: a failure of ours never reaches the page.
 */
import { PageView } from './PageView.js';
import type { QueuedEvent } from './PageView.js';
import type { BrowserActivityOptions, WireBatch, WireEvent } from './types.js';

/** A part that collects one kind of event. */
export type Collector = (tracker: Tracker) => void;

/** Limits the server enforces (src/browserEndpoint/wireSchema.ts); batches are cut to fit. */
const MAX_EVENTS_PER_BATCH = 250;
const MAX_EVENTS_PER_PAGE = 100;
const MAX_PAGES_PER_BATCH = 20;

/** Runs `fn`, swallowing what it throws: the page must never see our errors. */
export function guard<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  return (...args: A) => {
    try {
      fn(...args);
    } catch {
      // Collecting is best effort; the page goes on.
    }
  };
}

export class Tracker {
  page: PageView;
  /** The page view of the document load: web vitals belong to it. */
  readonly loadPage: PageView;
  private readonly pages: PageView[] = [];
  private queued = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly endHandlers: Array<(page: PageView) => void> = [];
  private readonly taskHandlers: Array<(name: string) => void> = [];
  private stopped = false;
  /** fetch as it was before anyone wrapped it: our own sends are not API calls. */
  readonly send: typeof fetch = window.fetch.bind(window);

  constructor(readonly options: Required<Omit<BrowserActivityOptions, 'route'>> & { route?: string }) {
    this.page = this.loadPage = this.open(location.pathname, options.route, 0);
  }

  /** Queues an event on `page` (default: the current page view). */
  emit(event: Omit<WireEvent, 'ago'>, page: PageView = this.page): void {
    if (this.stopped || this.queued >= this.options.maxQueuedEvents) return;
    page.pending.push({ ...event, at: performance.now() } as QueuedEvent);
    if (!this.pages.includes(page)) this.pages.push(page);
    this.queued += 1;
    if (this.queued >= MAX_EVENTS_PER_BATCH) this.flush(false);
    else this.timer ??= setTimeout(guard(() => this.flush(false)), this.options.flushIntervalMs);
  }

  /** `fn` runs when a page view ends (route change, page left), before its last events are sent. */
  onPageEnd(fn: (page: PageView) => void): void {
    this.endHandlers.push(guard(fn));
  }

  /** `fn` runs when the user completes a task (a marked click or form submit). */
  onTask(fn: (name: string) => void): void {
    this.taskHandlers.push(guard(fn));
  }

  /** The user completed the task `name`. */
  taskCompleted(name: string): void {
    for (const fn of this.taskHandlers) fn(name);
  }

  /** Ends the current page view and starts one for `path` (an SPA route change). */
  navigate(path: string, kind: 'route' | 'back_forward' = 'route'): void {
    if (path === this.page.path && kind === 'route') return;
    this.endPage();
    this.page = this.open(path, undefined, performance.now());
    this.emit({ t: 'page_view', n: kind });
  }

  /** Ends the current page view (the page is being left). */
  endPage(): void {
    if (this.page.ended) return;
    this.page.ended = true;
    for (const fn of this.endHandlers) fn(this.page);
  }

  /** Sends what is queued; `leaving` uses sendBeacon, which survives the page's end. */
  flush(leaving: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const batch of this.batches()) {
      const body = JSON.stringify(batch);
      if (leaving && navigator.sendBeacon?.(this.options.endpoint, body)) continue;
      this.send(this.options.endpoint, {
        method: 'POST', body, keepalive: true, credentials: 'same-origin', headers: { 'content-type': 'application/json' },
      }).catch(() => {});
    }
  }

  stop(): void {
    this.endPage();
    this.flush(true);
    this.stopped = true;
  }

  private open(path: string, route: string | undefined, startedAt: number): PageView {
    const page = new PageView(path, route, startedAt);
    this.pages.push(page);
    return page;
  }

  /** Takes the queued events in batches the server accepts (events per page, per batch, pages per batch). */
  private batches(): WireBatch[] {
    const now = performance.now();
    const out: WireBatch[] = [];
    let current: WireBatch = { v: 1, pages: [] };
    let count = 0;
    for (const page of this.pages) {
      while (page.pending.length > 0) {
        if (current.pages.length >= MAX_PAGES_PER_BATCH || count >= MAX_EVENTS_PER_BATCH) {
          out.push(current);
          current = { v: 1, pages: [] };
          count = 0;
        }
        const take = page.pending.splice(0, Math.min(MAX_EVENTS_PER_PAGE, MAX_EVENTS_PER_BATCH - count));
        count += take.length;
        current.pages.push({
          id: page.id, tid: page.traceId, path: page.path, ...(page.route ? { route: page.route } : {}),
          events: take.map(({ at, ...e }): WireEvent => ({ ...e, ago: Math.max(0, Math.round(now - at)) })),
        });
      }
    }
    if (current.pages.length > 0) out.push(current);
    // Keep only the current page view (and the load page, which may still get late vitals).
    this.pages.splice(0, this.pages.length, ...new Set([this.loadPage, this.page]));
    this.queued = 0;
    return out;
  }
}
