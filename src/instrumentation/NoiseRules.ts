/**
 * The configured noise lists plus user rules, precomputed into sets so the
 * per-request check is a few hash lookups.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { NoiseConfig } from '../config/types';
import type { NoiseDecision, NoiseRule } from './NoiseRule';
import { reportOnce } from './reportOnce';

/** Methods that can be polling; a write to a polled path is never sampled away. */
const SAMPLEABLE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Classifies requests as drop / sample / keep. */
export class NoiseRules {
  private readonly dropPaths: Set<string>;
  private readonly dropPrefixes: string[];
  private readonly dropExtensions: Set<string>;
  private readonly dropServiceWorker: boolean;
  private readonly sampledExact: Set<string>;
  private readonly sampledPrefixes: string[];
  private readonly rules: readonly NoiseRule[];

  constructor(config: NoiseConfig, rules: readonly NoiseRule[] = []) {
    this.dropPaths = new Set(config.dropPaths);
    this.dropPrefixes = [...config.dropPathPrefixes];
    this.dropExtensions = new Set(config.dropExtensions.map((e) => e.toLowerCase()));
    this.dropServiceWorker = config.dropServiceWorker;
    this.sampledExact = new Set(config.sampledPaths.filter((p) => !p.endsWith('*')));
    this.sampledPrefixes = config.sampledPaths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
    this.rules = [...rules];
  }

  /** The decision for one request: user rules first, then the configured lists. */
  classify(method: string, path: string, headers: IncomingHttpHeaders): NoiseDecision {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i];
      try {
        const decision = rule.decide({ method, path, headers });
        if (decision === 'drop' || decision === 'sample' || decision === 'keep') return decision;
      } catch (err) {
        reportOnce(`noise-rule:${rule.name}`, `noise rule "${rule.name}" threw; it is skipped for this request`, err);
      }
    }
    if (this.isDropped(path, headers)) return 'drop';
    return this.isSampled(method, path) ? 'sample' : 'keep';
  }

  /** Health checks, /metrics, static assets, service-worker requests. */
  isDropped(path: string, headers: IncomingHttpHeaders): boolean {
    if (this.dropPaths.has(path)) return true;
    for (let i = 0; i < this.dropPrefixes.length; i++) if (path.startsWith(this.dropPrefixes[i])) return true;
    const dot = path.lastIndexOf('.');
    if (dot > path.lastIndexOf('/') && this.dropExtensions.has(path.slice(dot).toLowerCase())) return true;
    // Browsers send `Service-Worker: script` when fetching a worker script and
    // `Sec-Fetch-Dest: serviceworker` for it; neither is user activity.
    return this.dropServiceWorker && (headers['service-worker'] !== undefined || headers['sec-fetch-dest'] === 'serviceworker');
  }

  /** Polling endpoints: recorded only at the sample ratio. */
  isSampled(method: string, path: string): boolean {
    if (!SAMPLEABLE_METHODS.has(method)) return false;
    if (this.sampledExact.has(path)) return true;
    for (let i = 0; i < this.sampledPrefixes.length; i++) if (path.startsWith(this.sampledPrefixes[i])) return true;
    return false;
  }
}
