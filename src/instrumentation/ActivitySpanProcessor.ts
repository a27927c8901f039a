/**
 * Finishes server spans with what is only known at the end of a request —
 * body bytes, error code, outcome, user, activity type, route — and masks
 * query secrets in URL attributes of every span. It runs in `onEnding`, while
 * the span is still writable, so it sees every way a span ends (normal close,
 * response error, handler exception) and runs before any exporter.
 */
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { ServerResponse } from 'node:http';
import type { ActivityType } from '../audit/context';
import { ATTR, URL_ATTRIBUTES } from './attributes';
import type { QueryRedactor } from './QueryRedactor';
import type { RequestState } from './requestState';
import { reportOnce } from './reportOnce';

/** Content types that mean "the user downloaded a file". */
const DOWNLOAD_TYPES = /^(text\/csv|application\/(pdf|zip|octet-stream|vnd\.ms-excel|vnd\.openxmlformats-officedocument\.spreadsheetml|vnd\.oasis\.opendocument\.spreadsheet)|image\/)/i;

function header(res: ServerResponse, name: string): string {
  const value = res.getHeader(name);
  return typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : value === undefined ? '' : String(value);
}

function activityType(state: RequestState, res: ServerResponse, method: string): ActivityType {
  if (state.ctx.activityType !== null) return state.ctx.activityType;
  if (/^\s*attachment/i.test(header(res, 'content-disposition') || (state.contentDisposition ?? ''))) return 'file_download';
  const type = header(res, 'content-type') || (state.contentType ?? '');
  if (DOWNLOAD_TYPES.test(type)) return 'file_download';
  if (method === 'GET' && type.startsWith('text/html')) return 'page_view';
  return 'api_call';
}

/**
 * Express keeps the matched route on the request; other frameworks set http.route through their own
 * instrumentation; any other app names it with setRoute() (which wins over req.route).
 */
function frameworkRoute(req: RequestState['req']): string | undefined {
  const route = (req as unknown as { route?: { path?: unknown }; baseUrl?: unknown }).route;
  if (route === undefined || typeof route.path !== 'string') return undefined;
  const base = (req as unknown as { baseUrl?: unknown }).baseUrl;
  return `${typeof base === 'string' ? base : ''}${route.path}`;
}

/** Server spans carry their request's state under this symbol (cheaper for the GC than a WeakMap). */
const kSpanState = Symbol('cvd-activity.span-state');
type SpanWithState = { [kSpanState]?: RequestState };

/** Links spans to request state (filled by requestHook) and enriches them as they end. */
export class ActivitySpanProcessor implements SpanProcessor {
  /** True when a span ended since the last flush; lets beforeExit skip flushing an empty queue. */
  dirty = false;

  constructor(private readonly redactor: QueryRedactor) {}

  /** Called from instrumentation-http's requestHook for server spans. */
  attach(span: object, state: RequestState): void {
    (span as SpanWithState)[kSpanState] = state;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnding(span: Span): void {
    try {
      const state = (span as SpanWithState)[kSpanState];
      if (state !== undefined) {
        // The span waits in the export queue; it must not keep the request and response alive.
        (span as SpanWithState)[kSpanState] = undefined;
        if (state.res !== null) this.finishServerSpan(span, state, state.res);
        return;
      }
      if (span.kind !== SpanKind.SERVER) this.redactUrls(span);
    } catch (err) {
      reportOnce('span-enrichment', 'span enrichment failed', err);
    }
  }

  onEnd(_span: ReadableSpan): void {
    this.dirty = true;
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  private finishServerSpan(span: Span, state: RequestState, res: ServerResponse): void {
    const method = state.req.method ?? 'GET';
    const status = res.statusCode;
    const noBody = method === 'HEAD' || status === 204 || status === 304;
    span.setAttribute(ATTR.bodySize, noBody ? 0 : state.bodyBytes);

    if (span.attributes[ATTR.route] === undefined) {
      const route = state.ctx.route ?? frameworkRoute(state.req);
      if (route !== undefined) {
        span.setAttribute(ATTR.route, route);
        span.updateName(`${method} ${route}`);
      }
    }

    const ctx = state.ctx;
    let errorType: string | undefined = ctx.errorCode ?? undefined;
    if (errorType === undefined && status >= 400) errorType = String(status);
    if (errorType === undefined && span.status.code === SpanStatusCode.ERROR) {
      // instrumentation-http recorded an exception: keep its type (error.name).
      const existing = span.attributes[ATTR.errorType];
      errorType = typeof existing === 'string' ? existing : 'Error';
    }
    if (errorType !== undefined) span.setAttribute(ATTR.errorType, errorType);
    span.setAttribute(ATTR.outcome, errorType === undefined ? 'success' : 'failure');
    span.setAttribute(ATTR.activityType, activityType(state, res, method));

    const user = ctx.user;
    if (user !== null) {
      span.setAttribute(ATTR.userId, user.id);
      if (user.roles !== undefined) span.setAttribute(ATTR.userRoles, user.roles);
      if (user.sessionId !== undefined) span.setAttribute(ATTR.sessionId, user.sessionId);
    }
  }

  private redactUrls(span: Span): void {
    const attributes = span.attributes;
    for (let i = 0; i < URL_ATTRIBUTES.length; i++) {
      const key = URL_ATTRIBUTES[i];
      const value = attributes[key];
      if (typeof value !== 'string') continue;
      const redacted = key === 'url.query' ? this.redactor.redactQuery(value) : this.redactor.redactUrl(value);
      if (redacted !== value) span.setAttribute(key, redacted);
    }
  }
}
