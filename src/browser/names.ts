/** What the page gives us, made fit for the wire: names, search terms, messages. */

/** A feature, form, field or search box name: the characters the server accepts, at most 64. */
export function cleanName(value: string | null | undefined): string | undefined {
  const name = (value ?? '').trim().replace(/[^A-Za-z0-9_.:/-]+/g, '_').slice(0, 64);
  return name === '' ? undefined : name;
}

/**
 * A search term as it may be kept: lower case, numbers of 4+ digits, e-mail
 * addresses and long tokens replaced, at most 64 characters. What someone
 * pastes into a search box by mistake (a card number, a password-like token)
 * never leaves the page.
 */
export function redactQuery(query: string): string {
  return query
    .toLowerCase()
    .replace(/\S+@\S+/g, '[email]')
    .replace(/\d{4,}/g, '[number]')
    .replace(/[A-Za-z0-9_\-+/=]{20,}/g, '[token]')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 64);
}

/** An error message without URLs' queries, at most 200 characters. */
export function cleanMessage(message: unknown): string {
  return String(message ?? '').replace(/\?[^\s)'"]*/g, '').slice(0, 200);
}

/** The name of a form field: its name, else its id. */
export function fieldName(el: Element | null): string | undefined {
  if (!el) return undefined;
  return cleanName(el.getAttribute('name') ?? el.id);
}
