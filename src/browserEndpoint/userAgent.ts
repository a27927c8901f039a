/**
 * Browser, OS and device class from the request's User-Agent header, read on
 * the server (the browser sends nothing about itself). Parsing uses bowser
 * (MIT), whose rules are maintained for the browsers that matter; the result
 * per header is cached, since a few hundred distinct headers cover most traffic.
 */
import Bowser from 'bowser';

/** What the dashboards group by. */
export interface ClientEnvironment {
  browser: string | null;
  os: string | null;
  /** desktop, mobile, tablet, tv, or null when unknown. */
  device: string | null;
}

const cache = new Map<string, ClientEnvironment>();
const MAX_CACHED = 1000;
const MAX_HEADER = 512;

/** Parses `header` (clipped to 512 characters) into browser family + major version, OS family and device class. */
export function clientEnvironment(header: string | null | undefined): ClientEnvironment {
  if (!header) return { browser: null, os: null, device: null };
  const ua = header.slice(0, MAX_HEADER);
  const cached = cache.get(ua);
  if (cached) return cached;
  let env: ClientEnvironment;
  try {
    const parsed = Bowser.parse(ua);
    const major = parsed.browser.version?.split('.')[0];
    env = {
      browser: parsed.browser.name ? `${parsed.browser.name}${major ? ` ${major}` : ''}` : null,
      os: parsed.os.name ?? null,
      device: parsed.platform.type ?? null,
    };
  } catch {
    env = { browser: null, os: null, device: null };
  }
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
  cache.set(ua, env);
  return env;
}
