import { DatabaseError } from 'pg';
import { toStoreError } from '../../src/adapters/prisma/prisma-errors';

/** An error as node-postgres reports a failed statement: SQLSTATE code, severity, constraint. */
function pgError(code: string, constraint?: string): DatabaseError {
  const error = new DatabaseError(`statement failed (${code})`, 0, 'error');
  error.code = code;
  error.severity = 'ERROR';
  if (constraint !== undefined) error.constraint = constraint;
  return error;
}

describe('toStoreError on node-postgres errors (the append runs on the pool itself)', () => {
  it('maps a known constraint by its meaning', () => {
    const raced = toStoreError(pgError('23505', 'messages_sender_id_client_msg_id_key'), 'append messages');
    expect([raced.code, raced.retriable]).toEqual(['UNAVAILABLE', true]);
    expect(toStoreError(pgError('23503', 'messages_room_id_fkey'), 'append messages').code).toBe('ROOM_NOT_FOUND');
  });

  it('makes the retriable SQLSTATE classes UNAVAILABLE: deadlock, serialization, connection, resources', () => {
    for (const code of ['40P01', '40001', '08006', '53300', '57P01']) {
      const err = toStoreError(pgError(code), 'append messages');
      expect([code, err.code, err.retriable]).toEqual([code, 'UNAVAILABLE', true]);
    }
  });

  it('makes anything else INTERNAL and not retriable, so a list falls back to single writes to find its culprit', () => {
    for (const code of ['22021', '22001', '42601', '23514']) {
      const err = toStoreError(pgError(code), 'append messages');
      expect([code, err.code, err.retriable]).toEqual([code, 'INTERNAL', false]);
      expect(err.message).toContain(code);
    }
  });

  it('leaves a socket error, which has no severity, retriable', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      syscall: 'connect',
      errno: -111,
    });
    const err = toStoreError(refused, 'append messages');
    expect([err.code, err.retriable]).toEqual(['UNAVAILABLE', true]);
  });
});
