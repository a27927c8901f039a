/** The demo's closing summary as text for a terminal. */
import type { DemoSummary } from './run';

const n = (v: number): string => v.toLocaleString('en-US');

function counts(record: Record<string, number>): string {
  return Object.entries(record)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');
}

/** The summary as lines of text. */
export function formatSummary(s: DemoSummary): string {
  const a = s.activity;
  const sim = s.simulator;
  const out: string[] = [];
  const row = (label: string, value: string): number => out.push(`  ${label.padEnd(24)}${value}`);
  out.push('', `cvd-activity demo: ${(s.durationMs / 1000).toFixed(0)} s of CVD fleet operations`, '');
  row('database', `${s.database.kind} ${s.database.url ?? '(PG* variables)'}, schema ${s.database.schema}`);
  row('requests served', a ? `${n(a.requests)} (the simulator sent ${n(sim.requests)})` : `? (the simulator sent ${n(sim.requests)})`);
  if (a) {
    row('spans', `${n(a.spansDropped)} dropped as noise, ${n(a.spansSampledOut)} sampled out, ${n(a.spansExported)} exported`);
  } else {
    row('spans', 'unknown: the demo API did not report its counters');
  }
  row('traces', s.traces.exporter === 'otlp' ? `sent to ${s.traces.endpoint}` : 'not sent (set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a Collector)');
  row('audit events stored', `${n(s.audit.total)}${a ? ` (recorded ${n(a.auditEventsRecorded)})` : ''}`);
  for (const [category, count] of Object.entries(s.audit.byCategory).sort((x, y) => y[1] - x[1])) row(`  ${category}`, n(count));
  if (s.audit.schemaInvalid > 0) row('schema-invalid events', `${n(s.audit.schemaInvalid)} (stored, marked invalid)`);
  // Per address: how many failed logins are stored (every run so far), the highest attempt count one
  // burst reached, and the names tried.
  const byAddress = new Map<string, { rows: number; highest: number; max: number; users: Set<string> }>();
  for (const f of s.audit.failedLogins) {
    const key = f.clientAddress ?? 'unknown address';
    const entry = byAddress.get(key) ?? { rows: 0, highest: 0, max: 0, users: new Set<string>() };
    entry.rows += 1;
    entry.highest = Math.max(entry.highest, f.attemptCount);
    entry.max = f.maxAttempts;
    if (f.username) entry.users.add(f.username);
    byAddress.set(key, entry);
  }
  for (const [address, e] of byAddress) {
    row('failed logins', `${n(e.rows)} from ${address} for user ${[...e.users].join(', ') || '?'}, up to attempt ${e.highest} (the limit is ${e.max})`);
  }
  const b = s.browser;
  row('browser events stored', `${n(b.total)} from ${n(sim.browser.sessions)} web UI sessions of ${b.users.join(', ') || 'nobody'}`);
  if (b.total > 0) row('  by type', counts(b.byType));
  row('large export', `${n(sim.largeExport.records)} records (${n(Math.round(sim.largeExport.bytes / 1024))} KB)`);
  row('chain verification', `${s.verification.ok ? 'OK' : 'FAILED'}: ${s.verification.message}`);
  const byRule = new Map<string, string[]>();
  for (const alert of s.alerts) byRule.set(alert.name, [...(byRule.get(alert.name) ?? []), alert.message]);
  row('alerts fired', s.alerts.length === 0 ? 'none' : `${s.alerts.length} (${byRule.size} rules)`);
  // Two firings per rule say enough; `alerts check` lists them all.
  for (const [rule, messages] of byRule) {
    messages.slice(0, 2).forEach((m) => row(`  ${rule}`, m));
    if (messages.length > 2) row(`  ${rule}`, `… and ${messages.length - 2} more`);
  }
  out.push('', 'Audit events by action:', `  ${counts(s.audit.byAction)}`, '', 'Next, try:');
  for (const command of s.nextCommands) out.push(`  ${command}`);
  return out.join('\n') + '\n';
}
