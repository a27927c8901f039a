/**
 * A legacy trail spanning three years for the retention tests: two events a
 * month for 36 months back, one per class (security PERMISSION_CHANGE, other
 * LOGIN), each with a client address, plus two of the last minute.
 */
export const DAY = 86_400_000;
export const NOW = Date.now();

/** Two events a month for 36 months back, one per class, plus two of the last minute. */
export function legacyRows(): Array<{ id: number; security: boolean; at: number }> {
  const d = new Date(NOW);
  const rows: Array<{ id: number; security: boolean; at: number }> = [];
  for (let k = 36; k >= 1; k--) {
    const at = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - k, 2, 12);
    rows.push({ id: rows.length + 1, security: true, at }, { id: rows.length + 2, security: false, at: at + 3_600_000 });
  }
  rows.push({ id: rows.length + 1, security: true, at: NOW - 60_000 }, { id: rows.length + 2, security: false, at: NOW - 60_000 });
  return rows;
}
export const ROWS = legacyRows();

export function ndjson(): string {
  return ROWS.map((r) => JSON.stringify(r.security
    ? { id: r.id, user_id: 'u-admin', action: 'PERMISSION_CHANGE', resource_type: 'user', resource_id: `u-${r.id}`, details: { target_user_id: `u-${r.id}`, old_role: 'driver', new_role: 'admin' }, ip_address: `10.0.0.${r.id}`, created_at: new Date(r.at).toISOString() }
    : { id: r.id, user_id: `u-${r.id}`, action: 'LOGIN', resource_type: 'user', resource_id: `u-${r.id}`, details: { method: 'password' }, ip_address: `10.0.0.${r.id}`, created_at: new Date(r.at).toISOString() })).join('\n');
}

/** Whether a row survives retention as of `asOf` (its whole month must be older than its class's period to go). */
export function kept(r: { security: boolean; at: number }, asOf: number): boolean {
  const d = new Date(r.at);
  const monthEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  return monthEnd > asOf - (r.security ? 730 : 365) * DAY;
}


/** Where a row is after retention as of each of `asOfs` in turn (archiving months ended 90 days before). */
export function placeAfter(r: { security: boolean; at: number }, asOfs: number[]): 'hot' | 'archived' | 'gone' {
  const monthEnd = monthEndOf(r);
  let place: 'hot' | 'archived' | 'gone' = 'hot';
  for (const asOf of asOfs) {
    if (place !== 'gone' && !kept(r, asOf)) place = 'gone';
    else if (place === 'hot' && monthEnd <= asOf - 90 * DAY) place = 'archived';
  }
  return place;
}

/** Epoch ms where the month of the row ends. */
export function monthEndOf(r: { at: number }): number {
  const d = new Date(r.at);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** The class partition holding the row. */
export function leafOf(r: { security: boolean; at: number }): string {
  const d = new Date(r.at);
  return `audit_log_p${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}_${r.security ? 'security' : 'other'}`;
}
