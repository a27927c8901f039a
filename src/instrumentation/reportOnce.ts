/**
 * Background failures go to OpenTelemetry's diag, never into the host app, and
 * only once per cause so a hook failing on every request cannot flood the log.
 */
import { diag } from '@opentelemetry/api';

const reported = new Set<string>();

/** Reports `err` under `key` through diag.error the first time `key` fails; later failures are silent. */
export function reportOnce(key: string, message: string, err: unknown): void {
  if (reported.has(key)) return;
  reported.add(key);
  diag.error(`cvd-activity: ${message} (reported once; later failures are skipped silently)`, err);
}
