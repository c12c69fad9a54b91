import path from 'node:path';
import ts from 'typescript';
import type { z } from 'zod';
import * as client from '../../client/src/protocol';
import { CloseCodes } from '../../src/protocol/close-codes';
import { ErrorCodes } from '../../src/protocol/error-codes';
import type { ClientFrame, ServerFrame } from '../../src/protocol/frames';
import { ROOM_EVENTS } from '../../src/protocol/frames';
import type {
  AddMemberBody,
  CreateRoomBody,
  LoginBody,
  OpenDmBody,
  ReadBody,
  RegisterBody,
  RenameRoomBody,
} from '../../src/protocol/http-schemas';
import { MAX_MESSAGE_PAGE, MAX_ROOM_PAGE, MAX_USER_SEARCH_LIMIT, MAX_USER_SEARCH_QUERY } from '../../src/protocol/http-schemas';
import type {
  ErrorResponse,
  LoginResponse,
  RefreshResponse,
  UserSearchResponse,
  MessagePageResponse,
  PublicUserResponse,
  RoomCreatedResponse,
  RoomListResponse,
  DmResponse,
} from '../../src/protocol/http-responses';
import type { ROOM_KINDS } from '../../src/protocol/frames';
import { MAX_TEXT_LENGTH, type Message } from '../../src/protocol/message';

/**
 * The client package's plain protocol types (client/src/protocol.ts) against the server's
 * zod schemas (src/protocol), so the two cannot drift. The package cannot import zod (its
 * only runtime need is a WebSocket), so the check is here: every pair below must be
 * mutually assignable, and the constants equal. The type checks are compiled by this very
 * test (the TypeScript compiler on this file), so a drift fails `jest`, not only `tsc`.
 */

/** Readonly removed all the way down: the client's types are readonly, the server's are not. */
type Mutable<T> = T extends (infer U)[] | readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;
/** Compiles only when A and B are assignable both ways. */
type Same<A, B> = [Mutable<A>] extends [Mutable<B>] ? ([Mutable<B>] extends [Mutable<A>] ? true : false) : false;
const same = <T extends true>(): T | undefined => undefined;

export const checks = [
  same<Same<client.Message, Message>>(),
  same<Same<client.ClientFrame, ClientFrame>>(),
  same<Same<client.ServerFrame, ServerFrame>>(),
  same<Same<client.RoomEvent, (typeof ROOM_EVENTS)[number]>>(),
  same<Same<client.RegisterBody, RegisterBody>>(),
  same<Same<client.LoginBody, LoginBody>>(),
  same<Same<client.CreateRoomBody, CreateRoomBody>>(),
  same<Same<client.AddMemberBody, AddMemberBody>>(),
  same<Same<client.ReadBody, ReadBody>>(),
  same<Same<client.PublicUser, z.infer<typeof PublicUserResponse>>>(),
  same<Same<client.LoginResponse, z.infer<typeof LoginResponse>>>(),
  same<Same<client.RefreshResponse, z.infer<typeof RefreshResponse>>>(),
  same<Same<client.UserSearchResponse, z.infer<typeof UserSearchResponse>>>(),
  same<Same<client.RoomCreatedResponse, z.infer<typeof RoomCreatedResponse>>>(),
  same<Same<client.RoomListResponse, z.infer<typeof RoomListResponse>>>(),
  same<Same<client.RoomKind, (typeof ROOM_KINDS)[number]>>(),
  same<Same<client.OpenDmBody, OpenDmBody>>(),
  same<Same<client.RenameRoomBody, RenameRoomBody>>(),
  same<Same<client.DmResponse, z.infer<typeof DmResponse>>>(),
  same<Same<client.MessagePageResponse, z.infer<typeof MessagePageResponse>>>(),
  same<Same<client.ErrorResponse, z.infer<typeof ErrorResponse>>>(),
  same<Same<client.ErrorCode, keyof typeof ErrorCodes>>(),
];

describe('client protocol types match the server schemas', () => {
  it('type-checks: every client type is mutually assignable with the server type', () => {
    const file = __filename;
    const config = ts.getParsedCommandLineOfConfigFile(
      path.resolve(__dirname, '../../tsconfig.json'),
      {},
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
    );
    if (config === undefined) throw new Error('cannot read tsconfig.json');
    const program = ts.createProgram([file], { ...config.options, noEmit: true });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file === undefined || d.file.fileName === file.replace(/\\/g, '/'));
    const text = diagnostics
      .map(
        (d) =>
          `${d.file === undefined || d.start === undefined ? '' : `line ${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: `}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      )
      .join('\n');
    expect(text).toBe('');
  });

  it('has the same constants', () => {
    expect(client.CloseCodes).toEqual(CloseCodes);
    expect(client.ErrorCodes).toEqual(ErrorCodes);
    expect(client.MAX_TEXT_LENGTH).toBe(MAX_TEXT_LENGTH);
    expect(client.MAX_MESSAGE_PAGE).toBe(MAX_MESSAGE_PAGE);
    expect(client.MAX_ROOM_PAGE).toBe(MAX_ROOM_PAGE);
    expect(client.MAX_USER_SEARCH_QUERY).toBe(MAX_USER_SEARCH_QUERY);
    expect(client.MAX_USER_SEARCH_LIMIT).toBe(MAX_USER_SEARCH_LIMIT);
  });
});
