/**
 * Searches in forms marked `data-activity-search="name"`: the query's length
 * and a redacted form (never the raw text), the results count, and the
 * outcome: a result clicked (its position), the search refined (another
 * query), or abandoned (the page view ended without either).
 *
 * Results: elements marked `data-activity-result` inside the element marked
 * `data-activity-results="name"`; their count is read one second after the
 * submit unless the page reports it first with `searchResults(name, count)`.
 */
import { cleanName, redactQuery } from '../names.js';
import type { PageView } from '../PageView.js';
import { guard, type Tracker } from '../Tracker.js';

interface PendingSearch {
  name: string;
  page: PageView;
  query: string;
  length: number;
  results?: number;
  reported: boolean;
  timer?: ReturnType<typeof setTimeout>;
}

const COUNT_AFTER_MS = 1000;

function resultsOnPage(name: string): number | undefined {
  const box = document.querySelector(`[data-activity-results="${CSS.escape(name)}"]`);
  return box ? box.querySelectorAll('[data-activity-result]').length : undefined;
}

export class Searches {
  private pending: PendingSearch | undefined;

  constructor(private readonly tracker: Tracker) {
    document.addEventListener('submit', guard((e: SubmitEvent) => this.onSubmit(e)), { capture: true });
    document.addEventListener('click', guard((e: MouseEvent) => this.onClick(e)), { capture: true, passive: true });
    tracker.onPageEnd((page) => {
      if (this.pending?.page === page) this.close('search_abandon');
    });
  }

  /** `searchResults()` of the public API. */
  results(name: string, count: number): void {
    const search = this.pending;
    if (search && search.name === cleanName(name) && Number.isInteger(count) && count >= 0) {
      search.results = count;
      this.report(search);
    }
  }

  private onSubmit(e: SubmitEvent): void {
    const form = (e.target as Element | null)?.closest?.('[data-activity-search]');
    const name = cleanName(form?.getAttribute('data-activity-search'));
    if (!form || !name) return;
    const input = form.querySelector<HTMLInputElement>('input[type=search], input:not([type]), input[type=text]');
    const raw = input?.value ?? '';
    if (this.pending) this.close('search_refine');
    const search: PendingSearch = { name, page: this.tracker.page, query: redactQuery(raw), length: raw.length, reported: false };
    search.timer = setTimeout(guard(() => {
      search.results ??= resultsOnPage(name);
      this.report(search);
    }), COUNT_AFTER_MS);
    this.pending = search;
  }

  private onClick(e: MouseEvent): void {
    const search = this.pending;
    const result = (e.target as Element | null)?.closest?.('[data-activity-result]');
    const box = result?.closest('[data-activity-results]');
    if (!search || !result || !box || cleanName(box.getAttribute('data-activity-results')) !== search.name) return;
    const position = [...box.querySelectorAll('[data-activity-result]')].indexOf(result) + 1;
    this.close('search_click', position);
  }

  /** The search event itself, once, with the count when known. */
  private report(search: PendingSearch): void {
    if (search.reported) return;
    search.reported = true;
    clearTimeout(search.timer);
    const event = { t: 'search', n: search.name, q: search.query, len: search.length };
    this.tracker.emit(search.results === undefined ? event : { ...event, v: search.results }, search.page);
  }

  private close(outcome: 'search_click' | 'search_refine' | 'search_abandon', position?: number): void {
    const search = this.pending!;
    this.pending = undefined;
    search.results ??= resultsOnPage(search.name);
    this.report(search);
    this.tracker.emit(position === undefined ? { t: outcome, n: search.name } : { t: outcome, n: search.name, v: position }, search.page);
    if (outcome === 'search_click') this.tracker.taskCompleted(search.name);
  }
}

export function searches(tracker: Tracker): Searches {
  return new Searches(tracker);
}
