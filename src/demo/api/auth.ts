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

/** Sessions by bearer token, and password hashes by user id. */
export class Auth {
  private readonly sessions = new Map<string, Session>();
  private readonly hashes = new Map<string, Buffer>();

  constructor(private readonly fleet: Fleet) {
    for (const user of fleet.users.values()) this.hashes.set(user.id, hash(user.password));
  }

  /** The user behind the request's bearer token; names them to cvd-activity. Throws 401 without one. */
  authenticate(req: Request): User {
    const header = String(req.headers.authorization ?? '');
    const session = header.startsWith('Bearer ') ? this.sessions.get(header.slice(7)) : undefined;
    const user = session && this.fleet.users.get(session.userId);
    if (!session || !user) {
      setErrorCode('AUTH_REQUIRED');
      throw new HttpError(401, 'AUTH_REQUIRED', 'a valid bearer token is required');
    }
    setUser({ id: user.username, roles: user.roles, sessionId: session.sessionId });
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
      return { json: { token: session.token, user: { id: user.id, username, roles: user.roles } } };
    });
    router.on('POST', '/api/auth/logout', (req) => {
      markActivity('logout');
      const user = this.authenticate(req);
      this.sessions.delete(String(req.headers.authorization).slice(7));
      audit.record('LOGOUT', { resourceType: 'user', resourceId: user.id, details: { reason: 'user' } });
      return { status: 204, body: '', headers: {} };
    });
  }
}
