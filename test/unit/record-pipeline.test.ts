import pino from 'pino';
import { z } from 'zod';
import { ChatError, UnavailableError, ValidationError } from '../../src/domain/errors';
import { runPipeline, type RawRecord } from '../../src/adapters/record-pipeline';

const logger = pino({ level: 'silent' });
const schema = z.object({ n: z.number() });
const raw = (value: string | null): RawRecord => ({
  topic: 't',
  partition: 0,
  offset: '7',
  key: 'k',
  value: value === null ? null : Buffer.from(value),
  headers: {},
});
const noSleep = async () => undefined;

describe('runPipeline', () => {
  it('hands a valid record to the listener', async () => {
    const seen: number[] = [];
    const { outcome } = await runPipeline({
      raw: raw('{"n":1}'),
      schema,
      listener: async (r) => void seen.push(r.record.n),
      deadLetter: jest.fn(),
      heartbeat: noSleep,
      isActive: () => true,
      logger,
      sleep: noSleep,
    });
    expect(outcome).toBe('handled');
    expect(seen).toEqual([1]);
  });

  it.each([
    ['not json', 'not json'],
    ['wrong shape', '{"n":"x"}'],
    ['null value', null],
  ])('dead-letters %s without calling the listener', async (_name, value) => {
    const listener = jest.fn();
    const deadLetter = jest.fn(async () => undefined);
    const { outcome } = await runPipeline({
      raw: raw(value),
      schema,
      listener,
      deadLetter,
      heartbeat: noSleep,
      isActive: () => true,
      logger,
      sleep: noSleep,
    });
    expect(outcome).toBe('dead-lettered');
    expect(listener).not.toHaveBeenCalled();
    expect(deadLetter).toHaveBeenCalledWith(expect.objectContaining({ offset: '7' }), expect.any(ValidationError), 1);
  });

  it('retries a retriable failure with heartbeats, then succeeds', async () => {
    let calls = 0;
    const heartbeat = jest.fn(async () => undefined);
    const { outcome } = await runPipeline({
      raw: raw('{"n":1}'),
      schema,
      listener: async () => {
        if (++calls < 4) throw new UnavailableError('db down');
      },
      deadLetter: jest.fn(),
      heartbeat,
      isActive: () => true,
      logger,
      sleep: noSleep,
    });
    expect(outcome).toBe('handled');
    expect(calls).toBe(4);
    expect(heartbeat).toHaveBeenCalledTimes(3);
  });

  /** A record whose handler runs until `finish` is called, with keep-alive heartbeats (fake timers). */
  const slowAttempt = (heartbeat: () => Promise<void>, keepAlive: { intervalMs: number; maxMs: number }) => {
    let finish!: () => void;
    const result = runPipeline({
      raw: raw('{"n":1}'),
      schema,
      listener: () => new Promise<void>((resolve) => (finish = resolve)),
      deadLetter: jest.fn(),
      heartbeat,
      keepAlive,
      isActive: () => true,
      logger,
      sleep: noSleep,
    });
    return { outcome: result.then((r) => r.outcome), finish: () => finish() };
  };

  describe('keep-alive', () => {
    beforeEach(() => jest.useFakeTimers());
    afterEach(() => jest.useRealTimers());

    it('heartbeats while one slow handler attempt runs, and stops after keepAlive.maxMs', async () => {
      const heartbeat = jest.fn(async () => undefined);
      const attempt = slowAttempt(heartbeat, { intervalMs: 100, maxMs: 1_000 });
      await jest.advanceTimersByTimeAsync(550);
      expect(heartbeat).toHaveBeenCalledTimes(5);
      await jest.advanceTimersByTimeAsync(2_000);
      // A handler that hangs past maxMs stops heartbeating: the group may move the partition.
      expect(heartbeat).toHaveBeenCalledTimes(10);
      attempt.finish();
      await expect(attempt.outcome).resolves.toBe('handled');
    });

    it('a failed keep-alive heartbeat does not fail the record, and none follows it', async () => {
      const heartbeat = jest.fn(async () => {
        throw new Error('The group is rebalancing, so a rejoin is needed');
      });
      const attempt = slowAttempt(heartbeat, { intervalMs: 100, maxMs: 10_000 });
      await jest.advanceTimersByTimeAsync(350);
      expect(heartbeat).toHaveBeenCalledTimes(3);
      attempt.finish();
      await expect(attempt.outcome).resolves.toBe('handled');
      await jest.advanceTimersByTimeAsync(1_000);
      expect(heartbeat).toHaveBeenCalledTimes(3);
    });
  });

  it('dead-letters a non-retriable handler failure with its attempt count', async () => {
    const deadLetter = jest.fn(async () => undefined);
    let calls = 0;
    const { outcome } = await runPipeline({
      raw: raw('{"n":1}'),
      schema,
      listener: async () => {
        calls++;
        if (calls === 1) throw new UnavailableError('blip');
        throw new ChatError('VALIDATION', 'bad');
      },
      deadLetter,
      heartbeat: noSleep,
      isActive: () => true,
      logger,
      sleep: noSleep,
    });
    expect(outcome).toBe('dead-lettered');
    expect(deadLetter).toHaveBeenCalledWith(expect.anything(), expect.objectContaining({ code: 'VALIDATION' }), 2);
  });

  it('keeps retrying the dead-letter write and never reports success before it', async () => {
    let writes = 0;
    const { outcome } = await runPipeline({
      raw: raw('garbage'),
      schema,
      listener: jest.fn(),
      deadLetter: async () => {
        if (++writes < 3) throw new UnavailableError('kafka down');
      },
      heartbeat: noSleep,
      isActive: () => true,
      logger,
      sleep: noSleep,
    });
    expect(outcome).toBe('dead-lettered');
    expect(writes).toBe(3);
  });

  it('abandons (leaves uncommitted) when the partition is lost while retrying', async () => {
    let active = true;
    const { outcome } = await runPipeline({
      raw: raw('{"n":1}'),
      schema,
      listener: async () => {
        active = false;
        throw new UnavailableError('db down');
      },
      deadLetter: jest.fn(),
      heartbeat: noSleep,
      isActive: () => active,
      logger,
      sleep: noSleep,
    });
    expect(outcome).toBe('abandoned');
  });
});
