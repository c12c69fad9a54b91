import { ChatError, toChatError } from '../domain/errors';
import { assertNever } from '../domain/assert-never';
import { CLIENT_FRAME_TYPES, ClientFrameSchema, type ClientFrame } from '../protocol/frames';
import { makeRecord, type RecordOf } from '../protocol/envelope';
import type { Message } from '../protocol/message';
import type { Bus } from '../ports/bus';
import type { ChatStore } from '../ports/chat-store';
import type { Logger } from '../observability/logger';
import type { ClientConnection } from './client-connection';
import type { ResumeGate } from './resume-gate';

export interface FrameHandlerOptions {
  bus: Bus;
  store: ChatStore;
  chatTopic: string;
  instanceId: string;
  /** Cap on messages one resume sends per room; older ones are left to the history endpoint. */
  resumeMaxMessages: number;
  logger: Logger;
}

/** Parses a raw text frame: a ClientFrame, or a ChatError (INVALID_JSON, VALIDATION). */
export function parseClientFrame(data: string): ClientFrame {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw new ChatError('INVALID_JSON', 'frame is not valid JSON');
  }
  const parsed = ClientFrameSchema.safeParse(json);
  if (!parsed.success) {
    const type = typeof json === 'object' && json !== null && 'type' in json ? String(json.type).slice(0, 40) : undefined;
    const message =
      type !== undefined && !CLIENT_FRAME_TYPES.includes(type)
        ? `unknown frame type ${type}`
        : parsed.error.issues.map((i) => `${i.path.join('.') || '(frame)'}: ${i.message}`).join('; ');
    throw new ChatError('VALIDATION', message.slice(0, 500));
  }
  return parsed.data;
}

/** An `edit` or `delete` frame as its record on the sender's partition (like a send). */
function changeRecord(
  userId: string,
  ref: { instanceId: string; connectionId: string },
  frame: Extract<ClientFrame, { type: 'edit' | 'delete' }>,
): RecordOf<'chat.edit'> | RecordOf<'chat.delete'> {
  const target = {
    ...ref,
    roomId: frame.roomId,
    messageId: frame.messageId,
    ...(frame.clientMsgId === undefined ? {} : { clientMsgId: frame.clientMsgId }),
  };
  return frame.type === 'edit'
    ? makeRecord('chat.edit', userId, { ...target, text: frame.text })
    : makeRecord('chat.delete', userId, target);
}

/**
 * Client frames → records on the user's partition (send, edit, delete, typing, read), a reply (ping), or a
 * history read (resume). The user is the connection's: a frame cannot name another.
 */
export function createFrameHandler({ bus, store, chatTopic, instanceId, resumeMaxMessages, logger }: FrameHandlerOptions) {
  /** History per requested room; a room the user is not in gets an error frame and nothing else. */
  const history = async (connection: ClientConnection, rooms: Readonly<Record<string, number>>): Promise<Message[][]> => {
    const out: Message[][] = [];
    for (const [roomId, afterSeq] of Object.entries(rooms)) {
      const members = await store.roomMembers(roomId);
      if (members === undefined || !members.includes(connection.userId)) {
        connection.send({ type: 'error', code: 'NOT_A_MEMBER', message: `not a member of room ${roomId}`, ref: roomId });
        continue;
      }
      const messages: Message[] = [];
      let after = afterSeq;
      while (messages.length < resumeMaxMessages) {
        const page = await store.listMessages(roomId, { afterSeq: after, limit: Math.min(200, resumeMaxMessages - messages.length) });
        messages.push(...page);
        if (page.length === 0) break;
        after = page[page.length - 1]!.seq;
      }
      out.push(messages);
    }
    return out;
  };

  return async function handleFrame(
    connection: ClientConnection,
    gate: ResumeGate,
    ready: Promise<void>,
    frame: ClientFrame,
  ): Promise<void> {
    const { userId, id: connectionId } = connection;
    switch (frame.type) {
      case 'ping':
        connection.send({ type: 'pong' });
        return;
      case 'send':
        await bus.publish([
          {
            topic: chatTopic,
            key: userId,
            record: makeRecord('chat.send', userId, {
              instanceId,
              connectionId,
              roomId: frame.roomId,
              clientMsgId: frame.clientMsgId,
              text: frame.text,
            }),
          },
        ]);
        return;
      case 'edit':
      case 'delete':
        await bus.publish([{ topic: chatTopic, key: userId, record: changeRecord(userId, { instanceId, connectionId }, frame) }]);
        return;
      case 'typing':
        await bus.publish([
          { topic: chatTopic, key: userId, record: makeRecord('chat.typing', userId, { instanceId, connectionId, roomId: frame.roomId }) },
        ]);
        return;
      case 'read':
        await bus.publish([
          {
            topic: chatTopic,
            key: userId,
            record: makeRecord('chat.read', userId, { instanceId, connectionId, roomId: frame.roomId, seq: frame.seq }),
          },
        ]);
        return;
      case 'resume':
        // Served once the owner has registered the session: see ResumeGate for why.
        await ready;
        try {
          await gate.resume(frame.rooms, () => history(connection, frame.rooms));
        } catch (error) {
          const err = toChatError(error);
          logger.warn({ userId, code: err.code, err: err.message }, 'resume failed');
          connection.send({ type: 'error', code: err.retriable ? err.code : 'INTERNAL', message: 'resume failed; try again' });
        }
        return;
      default:
        assertNever(frame, 'client frame');
    }
  };
}

export type FrameHandler = ReturnType<typeof createFrameHandler>;
