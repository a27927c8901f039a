/**
 * Samples polling endpoints at a ratio, decided at span start. The request's
 * noise decision was made by `ignoreIncomingRequestHook` (which sees headers);
 * `startIncomingSpanHook` hands it over here through `pendingDecision`, safely
 * because instrumentation-http calls that hook and then `tracer.startSpan`
 * synchronously with nothing in between. Without a hand-over (a SERVER span
 * from elsewhere) the configured paths decide from method + url.path.
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
  /** Set by startIncomingSpanHook right before the server span starts; consumed by the next shouldSample. */
  static pendingDecision: NoiseDecision | undefined;
  private readonly threshold: number;

  constructor(private readonly noise: NoiseRules, ratio: number) {
    // Compare the low 32 bits of the (random) trace id with ratio * 2^32: the
    // same trace id gets the same decision in every service that does this.
    this.threshold = Math.floor(ratio * 0x100000000);
  }

  shouldSample(_context: Context, traceId: string, _name: string, kind: SpanKind, attributes: Attributes, _links: Link[]): SamplingResult {
    if (kind !== SpanKind.SERVER) return RECORD;
    let decision = NoiseSampler.pendingDecision;
    NoiseSampler.pendingDecision = undefined;
    if (decision === undefined) {
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
