/**
 * Noise rules decide, per incoming request, whether it gets no span at all
 * (`drop`), a span only for a sampled share (`sample`), or a span (`keep`).
 */
import type { IncomingHttpHeaders } from 'node:http';

/** What a noise rule sees of a request: nothing that needs the body or the route. */
export interface NoiseRequest {
  /** Upper-case HTTP method. */
  method: string;
  /** The path without query string. */
  path: string;
  headers: IncomingHttpHeaders;
}

/** `drop`: no span (and no tracing below it); `sample`: recorded at `noise.sampleRatio`; `keep`: always recorded. */
export type NoiseDecision = 'drop' | 'sample' | 'keep';

/** A user-supplied rule, passed to `start({ noiseRules })`; the first rule returning a decision wins. */
export interface NoiseRule {
  /** Name used when the rule throws and is reported through diag. */
  name: string;
  /** The decision for this request, or undefined to let the next rule (and finally the configured lists) decide. */
  decide(request: NoiseRequest): NoiseDecision | undefined;
}
