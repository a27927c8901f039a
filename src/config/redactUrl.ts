/**
 * The one way a URL (or any text holding URLs) is printed: the password of
 * `scheme://user:password@host` and the values of secret-named query
 * parameters (`?password=`, `sslpassword`, tokens, keys) become `***`.
 * Used by config errors, the CLI, the demo and start-up messages, so no
 * secret value reaches a terminal or a log (security finding 7).
 */

/** Query parameter names whose values are secret (case-insensitive fragments). */
const SECRET_PARAM = /pass|pwd|secret|token|key|sig|auth|credential|session/i;

const MASK = '***';

/** `url` with its password and secret query values masked; other text is returned as is. */
export function redactUrl(url: string): string {
  return url
    // user:password@ in any URL inside the text (the user name stays: it says which login)
    .replace(/([a-z][a-z0-9+.-]*:\/\/[^/\s:@]*):[^@/\s]*@/gi, `$1:${MASK}@`)
    // name=value after ? or & (or ; in some drivers' URLs)
    .replace(/([?&;])([^=&#\s]+)=([^&#\s"']*)/g, (all, sep: string, name: string) =>
      (SECRET_PARAM.test(name) ? `${sep}${name}=${MASK}` : all));
}
