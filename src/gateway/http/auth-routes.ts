import { Router } from 'express';
import { ChatError } from '../../domain/errors';
import { makeRecord } from '../../protocol/envelope';
import { LoginBody, LogoutBody, RegisterBody } from '../../protocol/http-schemas';
import { assertPasswordFits, type PasswordHasher } from '../../auth/password-hasher';
import type { PasswordSealer } from '../../auth/password-sealer';
import type { TokenService } from '../../auth/token-service';
import type { RefreshTokens } from '../../auth/refresh-tokens';
import type { ChatStore } from '../../ports/chat-store';
import type { RevocationStore } from '../../ports/revocation-store';
import type { LoginSubject, LoginThrottle } from '../../ports/login-throttle';
import type { Metrics } from '../../observability/metrics';
import type { RequestReply } from '../request-reply';
import { loopbackClientIps, type ClientIpRequest } from '../client-ip';
import { authOf, requireAuth } from './authenticate';
import { parseBody } from './validate';
import type { RateWindow } from '../../ports/rate-window';

export interface AuthRoutesOptions {
  store: ChatStore;
  hasher: PasswordHasher;
  sealer: PasswordSealer;
  tokens: TokenService;
  /** The refresh-token families a login starts and a logout ends. */
  refreshTokens: RefreshTokens;
  revocations: RevocationStore;
  requestReply: RequestReply;
  /** Registrations per client IP per window (REGISTER_MAX_PER_IP, REGISTER_WINDOW_SECONDS). */
  registrations: RateWindow;
  /** Failed logins per account and per IP (shared by every instance through Redis). */
  throttle: LoginThrottle;
  metrics: Metrics;
  loginTopic: string;
  /** Tells every instance a token was revoked, so its open connections close (4001). */
  announceRevocation: (userId: string, jti: string) => Promise<void>;
  /** The client IP the per-IP login limit counts by (TRUST_PROXY). Default: X-Forwarded-For from loopback peers only. */
  clientIp?: (req: ClientIpRequest) => string;
}

/** POST /api/auth/register|login|logout and GET /api/me (api.md); refresh is in refresh-routes.ts. */
export function createAuthRoutes({
  store,
  hasher,
  sealer,
  tokens,
  refreshTokens,
  revocations,
  requestReply,
  registrations,
  throttle,
  metrics,
  loginTopic,
  announceRevocation,
  clientIp = loopbackClientIps.clientIp,
}: AuthRoutesOptions): Router {
  const router = Router();
  const auth = requireAuth(tokens, revocations);

  // Registration goes straight to the database (design.md): it is not about live state.
  // Throttled per client IP first, shared through Redis: accounts cannot be made in bulk
  // from one address, and a refused attempt costs no bcrypt hash.
  router.post('/api/auth/register', async (req, res) => {
    const body = parseBody(RegisterBody, req.body);
    assertPasswordFits(body.password);
    const ip = clientIp(req);
    const admission = await registrations.hit(ip);
    if (!admission.allowed) {
      metrics.securityRefusals.inc({ reason: 'register_throttled' });
      req.log.warn({ ip }, 'registration throttled');
      throw new ChatError('RATE_LIMITED', 'too many registrations from this address; try again later', {
        details: { retryAfterSeconds: Math.ceil(admission.retryAfterMs / 1000) },
      });
    }
    const displayName = body.displayName ?? body.userId;
    await store.createUser({ userId: body.userId, displayName, passwordHash: await hasher.hash(body.password) });
    req.log.info({ userId: body.userId }, 'user registered');
    res.status(201).json({ userId: body.userId, displayName });
  });

  // Login is a request-reply over Kafka, answered by the owner of the user's partition.
  // The throttle is asked first: a refused attempt costs no record, no bcrypt and no
  // answer about the password, so guessing is bounded whatever the instance count.
  router.post('/api/auth/login', async (req, res) => {
    const body = parseBody(LoginBody, req.body);
    assertPasswordFits(body.password);
    const subject: LoginSubject = { userId: body.userId, ip: clientIp(req) };
    const admission = await throttle.acquire(subject);
    if (!admission.allowed) {
      metrics.securityRefusals.inc({ reason: 'login_throttled' });
      req.log.warn({ userId: body.userId, ip: subject.ip, scope: admission.scope }, 'login throttled');
      // The same answer for both scopes and for unknown users: it reveals no account.
      throw new ChatError('RATE_LIMITED', 'too many failed login attempts; try again later', {
        details: { retryAfterSeconds: Math.ceil(admission.retryAfterMs / 1000) },
      });
    }
    let outcome: 'succeeded' | 'failed' | 'unanswered' = 'unanswered';
    // A failure stays counted. A success or a non-answer gives its attempt back; if that
    // bookkeeping fails, the user keeps the answer they got and the count merely errs high.
    const settleThrottle = async (how: typeof outcome): Promise<void> => {
      if (how === 'failed') return;
      await (how === 'succeeded' ? throttle.succeeded(subject) : throttle.release(subject)).catch((error: unknown) =>
        req.log.warn(
          { err: error instanceof Error ? error.message : String(error), userId: body.userId },
          'login throttle bookkeeping failed',
        ),
      );
    };
    try {
      const request = makeRecord('login.request', body.userId, { sealedPassword: sealer.seal(body.password) });
      const reply = await requestReply.request(loginTopic, request);
      if (reply.type !== 'login.reply') throw new ChatError('INTERNAL', `unexpected reply ${reply.type}`);
      const result = reply.payload;
      if (!result.ok) {
        if (result.code === 'INVALID_CREDENTIALS') {
          outcome = 'failed';
          throw new ChatError('INVALID_CREDENTIALS', 'invalid user id or password');
        }
        throw new ChatError('INTERNAL', result.message);
      }
      // The refresh family is written before the login counts as done: if the database
      // cannot take it, the login fails retriably and the attempt is given back.
      const refresh = await refreshTokens.issue(result.user.userId);
      outcome = 'succeeded';
      const issued = tokens.issue(result.user.userId);
      req.log.info({ userId: result.user.userId, owner: result.handledBy, partition: result.partition }, 'login ok');
      // The account's count is cleared before the answer goes out: a client that logs in
      // again as soon as it has its 200 must find it cleared (it raced the reset before).
      await settleThrottle(outcome);
      res.status(200).json({ token: issued.token, expiresIn: issued.expiresIn, ...refresh, user: result.user });
    } finally {
      if (outcome !== 'succeeded') await settleThrottle(outcome);
    }
  });

  // Logout ends the access token and, given one, the refresh token's family: the session
  // cannot be extended afterwards from this or any stolen copy of it. A refresh token of
  // another user changes nothing (and is not told apart: the answer is 204 either way).
  router.post('/api/auth/logout', auth, async (req, res) => {
    const claims = authOf(req);
    const body = parseBody(LogoutBody, req.body);
    if (body.refreshToken !== undefined) await refreshTokens.revoke(body.refreshToken, claims.userId);
    await revocations.revoke(claims.jti, claims.exp);
    await announceRevocation(claims.userId, claims.jti);
    res.status(204).end();
  });

  router.get('/api/me', auth, async (req, res) => {
    const user = await store.findUser(authOf(req).userId);
    if (user === undefined) throw new ChatError('USER_NOT_FOUND', 'user no longer exists');
    res.json({ userId: user.userId, displayName: user.displayName });
  });

  return router;
}
