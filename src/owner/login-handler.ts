import { ChatError, toChatError } from '../domain/errors';
import { makeRecord, type RecordOf } from '../protocol/envelope';
import { ensureUser, replyTo, type Inbound, type OwnerContext } from './owner-context';

/**
 * login.request: check the password against the stored bcrypt hash (a dummy hash for an
 * unknown user, so both take as long), load the user's state, answer the gateway that asked.
 */
export async function handleLogin(ctx: OwnerContext, request: Inbound, record: RecordOf<'login.request'>): Promise<void> {
  const { userId } = record;
  const log = ctx.logger;
  const answer = (payload: RecordOf<'login.reply'>['payload']): void => {
    const out = replyTo(request, makeRecord('login.reply', userId, payload));
    if (out === undefined) log.warn({ userId }, 'login request without reply headers; nothing to answer');
    else ctx.publish([out]);
  };

  let password: string;
  try {
    password = ctx.sealer.open(record.payload.sealedPassword);
  } catch (error) {
    // Another cluster secret, or a tampered record: answer so the client is not left waiting.
    log.error({ userId, err: toChatError(error).message }, 'login request could not be opened');
    ctx.metrics.loginsHandled.inc({ result: 'error' });
    answer({ ok: false, code: 'INTERNAL', message: 'login could not be processed', handledBy: ctx.instanceId });
    return;
  }
  const user = await ctx.store.findUser(userId);
  let ok = false;
  try {
    ok = await ctx.hasher.verify(password, user?.passwordHash);
  } catch (error) {
    if (!(error instanceof ChatError && error.code === 'PASSWORD_TOO_LONG')) throw error;
  }
  const result = ok && user !== undefined ? 'ok' : 'rejected';
  ctx.metrics.loginsHandled.inc({ result });
  log.info({ event: 'login.handled', userId, partition: request.partition, result }, 'login');
  if (ok && user !== undefined) {
    await ensureUser(ctx, request.partition, userId);
    answer({
      ok: true,
      user: { userId: user.userId, displayName: user.displayName },
      handledBy: ctx.instanceId,
      partition: request.partition,
    });
  } else {
    // One answer for unknown user and wrong password: which ids exist is not revealed.
    answer({ ok: false, code: 'INVALID_CREDENTIALS', message: 'invalid user id or password', handledBy: ctx.instanceId });
  }
}
