/**
 * The wire format of `cvd-activity/browser` (version 1) as a JSON Schema: the
 * only shape the endpoint accepts. Closed everywhere (no additional
 * properties, so no `user` a browser could forge), bounded everywhere (string
 * lengths, array sizes, numeric ranges), two levels deep at most.
 */

/** Names the app gives features, forms, fields and search boxes: no markup, no spaces at the ends. */
const NAME = { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:/-]+$' } as const;
/** Milliseconds before the batch was sent (at most a day: older events are not worth keeping). */
const AGO = { type: 'integer', minimum: 0, maximum: 86_400_000 } as const;

function event(type: string | string[], properties: Record<string, unknown>, required: string[] = []): object {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['t', 'ago', ...required],
    properties: { t: Array.isArray(type) ? { enum: type } : { const: type }, ago: AGO, ...properties },
  };
}

/** Web vitals and time to first interaction: ms up to 10 minutes, CLS (a score) up to 100. */
const VITAL = {
  if: { properties: { n: { const: 'CLS' } } },
  then: { properties: { v: { type: 'number', maximum: 100 } } },
};

const EVENT = {
  type: 'object',
  required: ['t'],
  properties: { t: { type: 'string', maxLength: 32 } },
  // Discriminated by `t`, so a bad event gets one error naming its own fields.
  discriminator: { propertyName: 't' },
  oneOf: [
    event('page_view', { n: { enum: ['load', 'route', 'reload', 'back_forward'] } }, ['n']),
    { ...event('vital', { n: { enum: ['TTFB', 'FCP', 'LCP', 'INP', 'CLS', 'TTI'] }, v: { type: 'number', minimum: 0, maximum: 600_000 } }, ['n', 'v']), ...VITAL },
    event('click', { n: NAME }, ['n']),
    event('search', {
      n: NAME,
      q: { type: 'string', maxLength: 64 },
      len: { type: 'integer', minimum: 0, maximum: 10_000 },
      v: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
    }, ['n', 'len']),
    event(['search_click', 'search_refine', 'search_abandon'], { n: NAME, v: { type: 'integer', minimum: 0, maximum: 10_000 } }, ['n']),
    event(['form_start', 'form_submit', 'form_abandon', 'form_invalid'], { n: NAME, f: NAME }, ['n']),
    event('error', {
      n: { enum: ['error', 'rejection', 'fetch'] },
      m: { type: 'string', maxLength: 200 },
      v: { type: 'integer', minimum: 0, maximum: 999 },
    }, ['n']),
    event('recovery', { n: NAME, v: { type: 'integer', minimum: 0, maximum: 86_400_000 } }, ['n']),
    event('scroll', { v: { enum: [0, 25, 50, 75, 100] } }, ['v']),
  ],
};

/** Most page views and events per batch; the module sends far fewer. */
export const LIMITS = { pages: 20, eventsPerPage: 100, events: 300 } as const;

export const WIRE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['v', 'pages'],
  properties: {
    v: { const: 1 },
    pages: {
      type: 'array',
      minItems: 1,
      maxItems: LIMITS.pages,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'path', 'events'],
        properties: {
          id: { type: 'string', pattern: '^[0-9a-f]{16}$' },
          tid: { type: 'string', pattern: '^[0-9a-f]{32}$' },
          path: { type: 'string', minLength: 1, maxLength: 256, pattern: '^/[^\\s<>"\'`]*$' },
          route: { type: 'string', minLength: 1, maxLength: 128, pattern: '^/[A-Za-z0-9_.:/{}*-]*$' },
          events: { type: 'array', maxItems: LIMITS.eventsPerPage, items: EVENT },
        },
      },
    },
  },
} as const;
