/**
 * What `audit.loginFailed()` records: one more failure of a user name (and of
 * a client address), counted over a sliding window, as LOGIN_FAILED's fields.
 * Used by the recorder (before start() there is no recorder: record() throws).
 */
import type { LoginFailedInput } from './AuditRecorder';
import { LoginFailureCounter } from './LoginFailureCounter';

/** Options of FailedLogins. */
export interface FailedLoginsOptions {
  /** Sliding window of the counts (ms). */
  windowMs: number;
  /** Attempts at which `limit_reached` becomes true. */
  maxAttempts: number;
  /** Clock (ms), replaceable in tests. */
  now?: () => number;
}

/** Failed-login counts per user name and per client address. */
export class FailedLogins {
  private readonly byUser: LoginFailureCounter;
  private readonly byAddress: LoginFailureCounter;

  constructor(private readonly options: FailedLoginsOptions) {
    this.byUser = new LoginFailureCounter({ windowMs: options.windowMs, now: options.now });
    this.byAddress = new LoginFailureCounter({ windowMs: options.windowMs, now: options.now });
  }

  /** Counts one failure and returns the LOGIN_FAILED fields; `address` is the request's client address, if any. */
  fields(input: LoginFailedInput, address: string | null): { details: Record<string, unknown>; outcome: 'failure'; reason: string | null } {
    const username = typeof input?.username === 'string' ? input.username : String(input?.username);
    const max = this.options.maxAttempts;
    const attempts = this.byUser.hit(username);
    const details: Record<string, unknown> = { username, attempt_count: attempts, max_attempts: max };
    const from = input?.clientAddress ?? address;
    const addressAttempts = from ? this.byAddress.hit(from) : 0;
    if (from) details.address_attempt_count = addressAttempts;
    details.limit_reached = attempts >= max || addressAttempts >= max;
    return { details, outcome: 'failure', reason: input?.reason ?? null };
  }
}
