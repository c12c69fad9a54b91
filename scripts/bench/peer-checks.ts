/**
 * What the benchmark's non-product servers (socketio-node.ts, the peer; ws-relay-node.ts,
 * the WebSocket floor) check per connection and per frame, written once so both do the
 * same work: their settings from the environment, the token (as ours: HS256 only, issuer
 * and audience), the shape of a send, and the message it becomes.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';

/** A setting the script cannot run without (the bench passes them). */
export const requiredEnv = (name: string): string => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
};

/** The token settings, read once at start. */
export function tokenVerifier(): (token: string) => string {
  const secret = requiredEnv('JWT_SECRET');
  const issuer = requiredEnv('JWT_ISSUER');
  const audience = requiredEnv('JWT_AUDIENCE');
  /** The token's subject; throws for any token ours would refuse. */
  return (token) => {
    const claims = jwt.verify(token, secret, { algorithms: ['HS256'], issuer, audience });
    if (typeof claims === 'string' || typeof claims.sub !== 'string') throw new Error('no subject');
    return claims.sub;
  };
}

const MAX_TEXT = 4_000;

export interface SendFrame {
  roomId: string;
  clientMsgId: string;
  text: string;
}

export const isSendFrame = (v: unknown): v is SendFrame =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as SendFrame).roomId === 'string' &&
  typeof (v as SendFrame).clientMsgId === 'string' &&
  typeof (v as SendFrame).text === 'string' &&
  (v as SendFrame).text.length <= MAX_TEXT;

/** The message a valid send becomes: stamped with an id and the time, as ours stamps it. */
export const stampedMessage = (
  frame: SendFrame,
  senderId: string,
): { id: string; roomId: string; senderId: string; text: string; ts: number; clientMsgId: string } => ({
  id: randomUUID(),
  roomId: frame.roomId,
  senderId,
  text: frame.text,
  ts: Date.now(),
  clientMsgId: frame.clientMsgId,
});
