import { redactUrl } from './redactUrl';

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Option path, dotted (`noise.sampleRatio`), or the variable name for problems outside any option. */
  key: string;
  /** Where the value came from: `env CVD_ACTIVITY_…`, `file <path>`, `start() options`, `default`. */
  source: string;
  /** The offending value. */
  value: unknown;
  /** What is allowed instead. */
  allowed: string;
}

/** Options whose value is itself a secret: never printed, only its length. */
const SECRET_OPTIONS = new Set(['database.piiKey']);

/** The value as printed: secrets hidden, URLs without passwords or secret query values. */
function show(key: string, value: unknown): string {
  if (value === undefined) return 'undefined';
  if (SECRET_OPTIONS.has(key) && typeof value === 'string') return `a value of ${value.length} characters (not shown)`;
  const text = redactUrl(JSON.stringify(value) ?? String(value));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The merged configuration is invalid; `problems` lists every issue, `message` is one line naming them all. */
export class ConfigError extends Error {
  /** Stable code for programmatic checks. */
  readonly code = 'CVD_ACTIVITY_CONFIG_INVALID';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    const parts = problems.map((p) => `${p.key} (from ${p.source}) is ${show(p.key, p.value)}: allowed ${p.allowed}`);
    super(`cvd-activity: invalid configuration: ${parts.join('; ')}`.replace(/[\r\n]+/g, ' '));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
