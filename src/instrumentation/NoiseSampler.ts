/**
 * Samples polling endpoints at a ratio, decided at span start. The request's
 * noise decision was made by `ignoreIncomingRequestHook` (which sees headers);
 * `startIncomingSpanHook` puts it into the attributes the server span starts
 * with (`activity.noise`), which instrumentation-http hands to the sampler with
 * that very span: no state shared between calls, whatever order they run in.
 * Without it (a SERVER span from elsewhere) the configured paths decide from
 * method + url.path.
 */
import { SpanKind } from '@opentelemetry/api';
import type { Attributes, Context, Link } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import type { Sampler, SamplingResult } from '@opentelemetry/sdk-trace';
import { ATTR } from './attributes';
import type { NoiseDecision } from './NoiseRule';
import type { NoiseRules } from './NoiseRules';
import { activityCounters } from './stats';

const RECORD: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED };
const SKIP: SamplingResult = { decision: SamplingDecision.NOT_RECORD };

/** Root sampler; wrap in ParentBasedSampler so child spans follow their parent. */
export class NoiseSampler implements Sampler {
  private readonly threshold: number;

  constructor(private readonly noise: NoiseRules, ratio: number) {
    // Compare the low 32 bits of the (random) trace id with ratio * 2^32: the
    // same trace id gets the same decision in every service that does this.
    this.threshold = Math.floor(ratio * 0x100000000);
  }

  shouldSample(_context: Context, traceId: string, _name: string, kind: SpanKind, attributes: Attributes, _links: Link[]): SamplingResult {
    if (kind !== SpanKind.SERVER) return RECORD;
    let decision: NoiseDecision | undefined;
    // The key is present whenever our hook ran: 'sampled', or undefined (kept; the SDK drops the empty attribute).
    if (ATTR.noise in attributes) decision = attributes[ATTR.noise] === 'sampled' ? 'sample' : 'keep';
    else {
      const path = attributes[ATTR.urlPath];
      const method = attributes[ATTR.method];
      decision = typeof path === 'string' && this.noise.isSampled(typeof method === 'string' ? method : 'GET', path) ? 'sample' : 'keep';
    }
    if (decision !== 'sample') return RECORD;
    if (parseInt(traceId.slice(-8), 16) < this.threshold) return RECORD;
    activityCounters.spansSampledOut++;
    return SKIP;
  }

  toString(): string {
    return `NoiseSampler{threshold=${this.threshold}}`;
  }
}
