import { randomUUID } from 'node:crypto';
import { murmur2, partitionForKey } from '../../src/domain/partitioner';
// kafkajs's own implementation is the reference: the in-memory bus must partition exactly as Kafka does.
const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2') as (key: string) => number;

describe('partitionForKey', () => {
  it('matches kafkajs murmur2 for many keys of every tail length', () => {
    const keys = [
      '',
      'a',
      'ab',
      'abc',
      'abcd',
      'user-1',
      'ünïcødé',
      '𝄞 music',
      ...Array.from({ length: 500 }, () => randomUUID().slice(0, 1 + Math.floor(Math.random() * 36))),
    ];
    for (const key of keys) expect(murmur2(key)).toBe(kafkajsMurmur2(key));
  });

  it('is stable and in range', () => {
    for (let i = 0; i < 200; i++) {
      const p = partitionForKey(`user-${i}`, 12);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(12);
      expect(partitionForKey(`user-${i}`, 12)).toBe(p);
    }
  });

  it('spreads keys over every partition', () => {
    const seen = new Set(Array.from({ length: 1000 }, (_, i) => partitionForKey(`u${i}`, 12)));
    expect(seen.size).toBe(12);
  });

  it('refuses a partition count that is not a positive integer', () => {
    expect(() => partitionForKey('x', 0)).toThrow(RangeError);
    expect(() => partitionForKey('x', 1.5)).toThrow(RangeError);
  });
});
