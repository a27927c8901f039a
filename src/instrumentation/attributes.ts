/**
 * Span attribute names this room writes: the stable OpenTelemetry semantic
 * conventions from @opentelemetry/semantic-conventions (loaded by the SDK
 * anyway), our own names (`activity.*`), and names still in development
 * written out (the package's stable entry does not carry them).
 */
import {
  ATTR_CLIENT_ADDRESS, ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_URL_FULL,
  ATTR_URL_PATH, ATTR_URL_QUERY,
} from '@opentelemetry/semantic-conventions';

/** Span attribute names this room writes. */
export const ATTR = {
  clientAddress: ATTR_CLIENT_ADDRESS,
  urlQuery: ATTR_URL_QUERY,
  urlPath: ATTR_URL_PATH,
  method: ATTR_HTTP_REQUEST_METHOD,
  route: ATTR_HTTP_ROUTE,
  status: ATTR_HTTP_RESPONSE_STATUS_CODE,
  /** In development (not in the stable entry). */
  bodySize: 'http.response.body.size',
  errorType: ATTR_ERROR_TYPE,
  outcome: 'activity.outcome',
  activityType: 'activity.type',
  /** `user.*` and `session.id` are in development: the current names, written out. */
  userId: 'user.id',
  userRoles: 'user.roles',
  sessionId: 'session.id',
  /** 'sampled' on a span of a request the noise rules sample (it stands for 1/sampleRatio requests); set by startIncomingSpanHook, read by NoiseSampler. */
  noise: 'activity.noise',
} as const;

/** Attributes whose string value may be a URL or a query string, on any span (server, client, other libraries). */
export const URL_ATTRIBUTES: readonly string[] = [ATTR_URL_FULL, ATTR_URL_QUERY, 'url.original', 'http.url', 'http.target', 'http.request.header.referer'];
