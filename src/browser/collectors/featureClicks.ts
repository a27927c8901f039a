/**
 * Feature use: clicks on elements the app marks with `data-activity="name"`
 * (`<button data-activity="export-csv">`), so adoption reads "distinct users
 * per feature per week". Unmarked clicks are not collected.
 */
import { cleanName } from '../names.js';
import { guard, type Tracker } from '../Tracker.js';

export function featureClicks(tracker: Tracker): void {
  document.addEventListener('click', guard((e: MouseEvent) => {
    const marked = (e.target as Element | null)?.closest?.('[data-activity]');
    const name = cleanName(marked?.getAttribute('data-activity'));
    if (!name) return;
    tracker.emit({ t: 'click', n: name });
    tracker.taskCompleted(name);
  }), { capture: true, passive: true });
}
