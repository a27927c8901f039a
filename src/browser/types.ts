/** Public types of `cvd-activity/browser`. */

/** Options of `startBrowserActivity()` / `createBrowserActivity()`. */
export interface BrowserActivityOptions {
  /** Where batches are posted: a path on the app's own origin (default `/cvd-activity/browser`). */
  endpoint?: string;
  /** Share of tab sessions that report anything, 0 to 1, decided once per tab (default 1). */
  sampleRate?: number;
  /** Longest an event waits before it is sent while the page stays open (ms, default 5000). */
  flushIntervalMs?: number;
  /** Most events waiting to be sent; more are dropped (default 500). */
  maxQueuedEvents?: number;
  /** Adds a W3C `traceparent` of the page view to the page's same-origin fetch() calls, linking API spans to it (default true). */
  traceApiCalls?: boolean;
  /** Collect nothing when the browser sends Global Privacy Control (default true; false only with a legal basis that allows it). */
  honorGlobalPrivacyControl?: boolean;
  /** The route template of the first page (`/devices/:id`); later ones with `setRoute()`. */
  route?: string;
}

/** What a running tracker offers the page. */
export interface BrowserActivity {
  /** False when nothing is collected (Global Privacy Control, sampled out, no browser). */
  readonly active: boolean;
  /** Names the route template of the current page view (`/devices/:id`), instead of the raw path. */
  setRoute(template: string): void;
  /** Reports the results count of the last search in the box `name` (when the page does not mark it). */
  searchResults(name: string, count: number): void;
  /** Reports a validation error on `field` of the marked form `form` (for validation done in script). */
  formInvalid(form: string, field: string): void;
  /** Records use of a feature that is not a click on a marked element. */
  feature(name: string): void;
  /** Sends what is queued now. */
  flush(): void;
  /** Sends what is queued and stops collecting. */
  stop(): void;
}

/** One event as sent (wire format version 1; the server checks it against src/browserEndpoint/wireSchema.ts). */
export interface WireEvent {
  t: string;
  /** Milliseconds before the batch was sent. */
  ago: number;
  n?: string;
  v?: number;
  q?: string;
  len?: number;
  f?: string;
  m?: string;
}

/** One page view with its events, as sent. */
export interface WirePage {
  /** 16 hex digits. */
  id: string;
  /** The page view's W3C trace id (32 hex digits). */
  tid?: string;
  path: string;
  route?: string;
  events: WireEvent[];
}

/** A batch (wire format version 1). */
export interface WireBatch {
  v: 1;
  pages: WirePage[];
}
