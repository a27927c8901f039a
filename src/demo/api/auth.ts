/**
 * Login, logout and the bearer-token middleware. This is where a real app
 * tells cvd-activity who is acting: `setUser()` once per request, and
 * `markActivity()` / `audit.loginFailed()` around authentication.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { audit, markActivity, setErrorCode, setUser } from 'cvd-activity';
import type { Fleet, User } from './fleet';
import { HttpError, type Handler, type Reply, type Request, type Router } from './router';

interface Session { token: string; sessionId: string; userId: string }

const SALT = Buffer.from('cvd-demo-salt');
// Low scrypt cost: the demo hashes on every login attempt, including a brute-force burst.
const hash = (password: string): Buffer => scryptSync(password, SALT, 32, { N: 1024 });

/** The session token of a request: its bearer token, else its `cvd_session` cookie. */
function tokenOf(headers: Request['headers']): string | undefined {
  const header = String(headers.authorization ?? '');
  if (header.startsWith('Bearer ')) return header.slice(7);
  return /(?:^|;\s*)cvd_session=([^;]+)/.exec(String(headers.cookie ?? ''))?.[1];
}

/** Sessions by bearer token, and password hashes by user id. */
export class Auth {
  private readonly sessions = new Map<string, Session>();
  private readonly hashes = new Map<string, Buffer>();

  constructor(private readonly fleet: Fleet) {
    for (const user of fleet.users.values()) this.hashes.set(user.id, hash(user.password));
  }

  /**
   * The signed-in user of a request (bearer token from API clients, session
   * cookie from the web pages), named to cvd-activity; undefined when nobody is.
   * The web pages' browser-activity endpoint is mounted behind this.
   */
  identify(headers: Request['headers']): User | undefined {
    const token = tokenOf(headers);
    const session = token ? this.sessions.get(token) : undefined;
    const user = session && this.fleet.users.get(session.userId);
    if (!session || !user) return undefined;
    setUser({ id: user.username, roles: user.roles, sessionId: session.sessionId });
    return user;
  }

  /** The user behind the request's bearer token or session cookie; names them to cvd-activity. Throws 401 without one. */
  authenticate(req: Request): User {
    const user = this.identify(req.headers);
    if (!user) {
      setErrorCode('AUTH_REQUIRED');
      throw new HttpError(401, 'AUTH_REQUIRED', 'a valid bearer token is required');
    }
    return user;
  }

  /** Throws 403 unless `user` has one of `roles`. */
  require(user: User, ...roles: string[]): void {
    if (!user.roles.some((r) => roles.includes(r))) {
      setErrorCode('FORBIDDEN');
      throw new HttpError(403, 'FORBIDDEN', `requires role ${roles.join(' or ')}`);
    }
  }

  /** Wraps a handler so it runs only for a signed-in user holding one of `roles` (any role when empty). */
  guard(roles: string[], fn: (req: Request, user: User) => Reply | Promise<Reply>): Handler {
    return (req) => {
      const user = this.authenticate(req);
      if (roles.length > 0) this.require(user, ...roles);
      return fn(req, user);
    };
  }

  /** POST /api/auth/login and POST /api/auth/logout. */
  routes(router: Router): void {
    router.on('POST', '/api/auth/login', (req) => {
      markActivity('login');
      const { username, password } = (req.body ?? {}) as { username?: string; password?: string };
      if (typeof username !== 'string' || typeof password !== 'string') {
        throw new HttpError(400, 'INVALID_REQUEST', 'body needs string fields username and password');
      }
      const user = [...this.fleet.users.values()].find((u) => u.username === username);
      const expected = user && this.hashes.get(user.id);
      if (!user || !expected || !timingSafeEqual(expected, hash(password))) {
        audit.loginFailed({ username, reason: user ? 'wrong_password' : 'unknown_user' });
        setErrorCode('INVALID_CREDENTIALS');
        throw new HttpError(401, 'INVALID_CREDENTIALS', 'wrong username or password');
      }
      const session = { token: randomBytes(24).toString('base64url'), sessionId: randomBytes(8).toString('hex'), userId: user.id };
      this.sessions.set(session.token, session);
      setUser({ id: user.username, roles: user.roles, sessionId: session.sessionId });
      audit.record('LOGIN', { resourceType: 'user', resourceId: user.id, details: { method: 'password' } });
      // The web pages use the cookie (sendBeacon cannot set an Authorization header); API clients the token.
      const cookie = `cvd_session=${session.token}; HttpOnly; SameSite=Strict; Path=/`;
      return { json: { token: session.token, user: { id: user.id, username, roles: user.roles } }, headers: { 'set-cookie': cookie } };
    });
    router.on('POST', '/api/auth/logout', (req) => {
      markActivity('logout');
      const user = this.authenticate(req);
      this.sessions.delete(tokenOf(req.headers) ?? '');
      audit.record('LOGOUT', { resourceType: 'user', resourceId: user.id, details: { reason: 'user' } });
      return { status: 204, body: '', headers: {} };
    });
  }
}
