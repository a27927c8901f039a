/**
 * Forms the app marks with `data-activity-form="name"`: started (first focus
 * inside), validation errors per field (the browser's own constraint checks,
 * or `formInvalid()` from script), submitted, or abandoned (the page view
 * ended after a start without a submit), with the last field touched. Field
 * names only: never a value.
 */
import { cleanName, fieldName } from '../names.js';
import type { PageView } from '../PageView.js';
import { guard, type Tracker } from '../Tracker.js';

interface FormState {
  page: PageView;
  lastField?: string;
  submitted: boolean;
}

function formOf(target: EventTarget | null): { el: Element; name: string } | undefined {
  const el = (target as Element | null)?.closest?.('[data-activity-form]');
  const name = cleanName(el?.getAttribute('data-activity-form'));
  return el && name ? { el, name } : undefined;
}

export function forms(tracker: Tracker): void {
  const started = new Map<string, FormState>();
  document.addEventListener('focusin', guard((e: FocusEvent) => {
    const form = formOf(e.target);
    if (!form) return;
    let state = started.get(form.name);
    if (!state || state.page !== tracker.page || state.submitted) {
      state = { page: tracker.page, submitted: false };
      started.set(form.name, state);
      tracker.emit({ t: 'form_start', n: form.name });
    }
    state.lastField = fieldName(e.target as Element) ?? state.lastField;
  }), { capture: true });
  // `invalid` does not bubble: listen in the capture phase.
  document.addEventListener('invalid', guard((e: Event) => {
    const form = formOf(e.target);
    if (form) tracker.emit({ t: 'form_invalid', n: form.name, f: fieldName(e.target as Element) });
  }), { capture: true });
  document.addEventListener('submit', guard((e: SubmitEvent) => {
    const form = formOf(e.target);
    if (!form) return;
    const state = started.get(form.name);
    if (state) state.submitted = true;
    tracker.emit({ t: 'form_submit', n: form.name });
    tracker.taskCompleted(form.name);
  }), { capture: true });
  tracker.onPageEnd((page) => {
    for (const [name, state] of started) {
      if (state.page === page && !state.submitted) tracker.emit({ t: 'form_abandon', n: name, f: state.lastField }, page);
    }
    for (const [name, state] of started) if (state.page === page) started.delete(name);
  });
}

/** `formInvalid()` of the public API. */
export function reportFormInvalid(tracker: Tracker, form: string, field: string): void {
  const n = cleanName(form);
  if (n) tracker.emit({ t: 'form_invalid', n, f: cleanName(field) });
}
