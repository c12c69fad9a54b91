import type { OwnedUser, LiveSession } from '../domain/owned-users';
import { OwnedUsers, byInstance, liveSessions } from '../domain/owned-users';
import type { PasswordHasher } from '../auth/password-hasher';
import type { PasswordSealer } from '../auth/password-sealer';
import { makeRecord, type RecordOf, type RequestRecord } from '../protocol/envelope';
import type { ServerFrame } from '../protocol/frames';
import { Headers } from '../protocol/headers';
import type { Bus, InboundRecord, OutboundRecord } from '../ports/bus';
import type { ChatStore } from '../ports/chat-store';
import type { AppendBatcher } from './append-batcher';
import type { MirroredSession, SessionMirror } from '../ports/session-mirror';
import type { SessionDirectory } from './session-directory';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';

/** Everything the owner's record handlers share. */
export interface OwnerContext {
  readonly instanceId: string;
  readonly bus: Bus;
  readonly store: ChatStore;
  /** Message writes of every owned partition, batched into shared statements. */
  readonly appends: AppendBatcher;
  readonly mirror: SessionMirror;
  /** Other users' sockets, read from the mirror their owners keep (owner/fan-out.ts). */
  readonly directory: SessionDirectory;
  readonly hasher: PasswordHasher;
  readonly sealer: PasswordSealer;
  readonly users: OwnedUsers;
  readonly chatTopic: string;
  readonly limits: {
    readonly sendRatePerSec: number;
    readonly sendBurst: number;
    readonly sessionTtlMs: number;
    /** Live sockets one user may hold on all instances together (WS_MAX_CONNECTIONS_PER_USER). */
    readonly maxSessionsPerUser: number;
    /** Co-members one presence.snapshot lists at most (PRESENCE_SNAPSHOT_MAX_USERS). */
    readonly presenceSnapshotMaxUsers: number;
    /** Rooms with more members than this get no read receipts (RECEIPTS_MAX_ROOM_MEMBERS). */
    readonly receiptsMaxRoomMembers: number;
  };
  /** How long a newly assigned partition's records wait for its users to load (owner/eager-load.ts); 0: lazy only. */
  readonly eagerLoadTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now: () => number;
  /**
   * Hands records to the bus without waiting for them to be written: the bus commits the
   * record being handled only once they are (see `Handled` in ports/bus). Given a promise
   * (output that depends on a database write), the records go to the bus when it
   * resolves, and a rejection fails the record's `published`: the bus then handles the
   * record again. Within a partition, output goes to the bus in the order it was handed
   * over, whether it waited or not.
   */
  readonly publish: (output: readonly OutboundRecord[] | Promise<readonly OutboundRecord[]>) => void;
}

export type Inbound = InboundRecord<RequestRecord>;

/** Mirrored sessions as the owner's live-session state. */
export function liveFromMirror(mirrored: readonly MirroredSession[]): LiveSession[] {
  return mirrored.map((s) => ({ instanceId: s.instanceId, connectionId: s.connectionId, seenAt: s.seenAt }));
}

/**
 * The user's state on this owner. Users with live sessions are usually loaded already,
 * eagerly when their partition was assigned (owner/eager-load.ts); anyone else (no
 * session then, or the eager load timed out) is loaded here on first use from the sessions
 * other owners mirrored (design.md: "one that gains it loads state on first use").
 */
export async function ensureUser(ctx: OwnerContext, partition: number, userId: string): Promise<OwnedUser> {
  const loaded = ctx.users.get(partition, userId);
  if (loaded !== undefined) return loaded;
  const mirrored = await ctx.mirror.load(userId);
  return ctx.users.load(partition, userId, liveFromMirror(mirrored), ctx.now());
}

/** A relay record: `frame` for some connections of `userId` on `instanceId`. */
export function relay(ctx: OwnerContext, userId: string, instanceId: string, connectionIds: string[], frame: ServerFrame): OutboundRecord {
  return { topic: ctx.bus.inboxTopicOf(instanceId), key: userId, record: makeRecord('relay', userId, { connectionIds, frame }) };
}

/**
 * Relay records for `frame` to the live sockets of a user this owner holds (all but
 * `exceptConnectionId`): one record per instance holding some, none for a user offline.
 */
export function relaysToLiveSockets(ctx: OwnerContext, user: OwnedUser, frame: ServerFrame, exceptConnectionId?: string): OutboundRecord[] {
  const targets = liveSessions(user, ctx.now(), ctx.limits.sessionTtlMs).filter((s) => s.connectionId !== exceptConnectionId);
  return [...byInstance(targets)].map(([instanceId, connectionIds]) => relay(ctx, user.userId, instanceId, connectionIds, frame));
}

/**
 * A deliver record: `frame` for every live socket of `recipient`, via the recipient's owner
 * (room changes from the outbox, and fan-out while the session directory is unavailable).
 */
export function deliver(ctx: OwnerContext, recipient: string, frame: ServerFrame): OutboundRecord {
  return { topic: ctx.chatTopic, key: recipient, record: makeRecord('deliver', recipient, { frame }) };
}

/** Answers a request-reply (login, a read from REST) on the requester's reply topic. */
export function replyTo(request: Inbound, record: RecordOf<'login.reply' | 'chat.read.reply'>): OutboundRecord | undefined {
  const replyTopic = request.headers[Headers.replyTopic];
  const correlationId = request.headers[Headers.correlationId];
  if (replyTopic === undefined || correlationId === undefined) return undefined;
  return { topic: replyTopic, key: request.record.userId, record, headers: { [Headers.correlationId]: correlationId } };
}
