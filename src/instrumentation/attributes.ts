/** Span attribute names this room writes (OpenTelemetry semantic conventions where one exists). */
export const ATTR = {
  clientAddress: 'client.address',
  urlQuery: 'url.query',
  urlPath: 'url.path',
  method: 'http.request.method',
  route: 'http.route',
  status: 'http.response.status_code',
  bodySize: 'http.response.body.size',
  errorType: 'error.type',
  outcome: 'activity.outcome',
  activityType: 'activity.type',
  userId: 'user.id',
  userRoles: 'user.roles',
  sessionId: 'session.id',
  /** 'sampled' on a span of a request the noise rules sample (it stands for 1/sampleRatio requests); set by startIncomingSpanHook, read by NoiseSampler. */
  noise: 'activity.noise',
} as const;

/** Attributes whose string value may be a URL or a query string, on any span (server, client, other libraries). */
export const URL_ATTRIBUTES: readonly string[] = ['url.full', 'url.query', 'url.original', 'http.url', 'http.target', 'http.request.header.referer'];
