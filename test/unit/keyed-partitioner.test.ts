import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { createKeyedPartitioner } from '../../src/adapters/kafka/keyed-partitioner';

const metadata = (count: number, missingLeaders: readonly number[] = []): PartitionMetadata[] =>
  Array.from({ length: count }, (_, partitionId) => ({
    partitionErrorCode: 0,
    partitionId,
    leader: missingLeaders.includes(partitionId) ? -1 : 1,
    replicas: [1, 2, 3],
    isr: [1, 2, 3],
  }));

describe('createKeyedPartitioner', () => {
  it("puts every keyed record where kafkajs's DefaultPartitioner does", () => {
    const ours = createKeyedPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys = [
      ...Array.from({ length: 500 }, (_, i) => `user_${i}`),
      ...Array.from({ length: 9 }, (_, n) => 'k'.repeat(n)),
      'zoë',
      '用户-17',
      '_bus',
    ];
    for (const count of [1, 3, 12, 64]) {
      for (const key of keys) {
        for (const k of [key, Buffer.from(key)]) {
          const args = { topic: 'chat-request', partitionMetadata: metadata(count, [1]), message: { key: k, value: 'v' } };
          expect([key, count, ours(args)]).toEqual([key, count, theirs(args)]);
        }
      }
    }
  });

  it('keeps an explicit partition', () => {
    const ours = createKeyedPartitioner();
    expect(ours({ topic: 't', partitionMetadata: metadata(12), message: { key: 'user_1', partition: 7, value: 'v' } })).toBe(7);
  });

  it('sends a record without a key round robin over the partitions that have a leader', () => {
    const ours = createKeyedPartitioner();
    const seen = new Set<number>();
    for (let i = 0; i < 40; i++) {
      seen.add(ours({ topic: 'chat-request.dlt', partitionMetadata: metadata(4, [2]), message: { key: null, value: 'v' } }));
    }
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });
});
