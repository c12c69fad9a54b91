import { EventEmitter } from 'node:events';
import { assignCoPartitions } from '../../domain/co-partition-assignment';
import { partitionForKey } from '../../domain/partitioner';

/**
 * A single-process stand-in for a Kafka cluster: partitioned append-only logs, consumer
 * groups with committed offsets, and the same co-partitioning assignment the Kafka owner
 * group uses. Several in-memory buses (one per simulated instance) can share one broker,
 * so multi-instance behaviour is testable without Kafka. It keeps everything in memory.
 */
export interface StoredRecord {
  readonly key: string | null;
  readonly value: Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export interface GroupMember {
  readonly memberId: string;
  /** Called on a rebalance with the partitions this member loses; resolves once they are drained. */
  revoke(partitions: readonly number[]): Promise<void>;
  /** Called on a rebalance with the partitions this member gains. */
  assign(partitions: readonly number[]): Promise<void>;
}

interface Group {
  topics: readonly string[];
  readonly members: Map<string, { member: GroupMember; owned: number[] }>;
  readonly committed: Map<string, number>;
  rebalancing: Promise<void>;
}

export class MemoryBroker {
  private readonly logs = new Map<string, StoredRecord[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly appended = new EventEmitter();

  constructor(private readonly defaultPartitions = 12) {
    this.appended.setMaxListeners(0);
  }

  createTopic(topic: string, partitions = this.defaultPartitions): void {
    if (!this.logs.has(topic))
      this.logs.set(
        topic,
        Array.from({ length: partitions }, () => []),
      );
  }

  partitionCount(topic: string): number {
    this.createTopic(topic);
    return this.logs.get(topic)!.length;
  }

  deleteTopic(topic: string): void {
    this.logs.delete(topic);
  }

  /** Appends with Kafka's default partitioner; returns where the record went. */
  append(topic: string, record: StoredRecord): { partition: number; offset: number } {
    this.createTopic(topic);
    const partitions = this.logs.get(topic)!;
    const partition = record.key === null ? 0 : partitionForKey(record.key, partitions.length);
    const log = partitions[partition]!;
    log.push(record);
    this.appended.emit(`${topic}/${partition}`);
    return { partition, offset: log.length - 1 };
  }

  read(topic: string, partition: number, offset: number): StoredRecord | undefined {
    return this.logs.get(topic)?.[partition]?.[offset];
  }

  endOffset(topic: string, partition: number): number {
    return this.logs.get(topic)?.[partition]?.length ?? 0;
  }

  /** Resolves when a record is appended to the partition, or after `timeoutMs`. */
  waitForAppend(topic: string, partition: number, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const event = `${topic}/${partition}`;
      const done = (): void => {
        clearTimeout(timer);
        this.appended.off(event, done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.appended.on(event, done);
    });
  }

  committed(groupId: string, topic: string, partition: number): number {
    return this.groups.get(groupId)?.committed.get(`${topic}/${partition}`) ?? 0;
  }

  commit(groupId: string, topic: string, partition: number, nextOffset: number): void {
    this.group(groupId).committed.set(`${topic}/${partition}`, nextOffset);
  }

  private group(groupId: string): Group {
    let group = this.groups.get(groupId);
    if (group === undefined) {
      group = { topics: [], members: new Map(), committed: new Map(), rebalancing: Promise.resolve() };
      this.groups.set(groupId, group);
    }
    return group;
  }

  /** Adds a member to a group and rebalances; resolves when the rebalance is done. */
  join(groupId: string, topics: readonly string[], member: GroupMember): Promise<void> {
    for (const t of topics) this.createTopic(t);
    const group = this.group(groupId);
    group.topics = topics;
    group.members.set(member.memberId, { member, owned: [] });
    return this.rebalance(group);
  }

  /** Removes a member (its partitions are revoked first) and rebalances the rest. */
  leave(groupId: string, memberId: string): Promise<void> {
    const group = this.groups.get(groupId);
    if (group === undefined || !group.members.has(memberId)) return Promise.resolve();
    group.rebalancing = group.rebalancing.then(async () => {
      const entry = group.members.get(memberId);
      if (entry === undefined) return;
      await entry.member.revoke(entry.owned);
      group.members.delete(memberId);
    });
    return this.rebalance(group);
  }

  private rebalance(group: Group): Promise<void> {
    group.rebalancing = group.rebalancing.then(async () => {
      const count = Math.max(...group.topics.map((t) => this.partitionCount(t)));
      const plan = assignCoPartitions(
        [...group.members.entries()].map(([memberId, m]) => ({ memberId, owned: m.owned })),
        count,
      );
      // Eager protocol, as the Kafka group runs it: every loss is drained before any gain.
      for (const [memberId, entry] of group.members) {
        const next = new Set(plan.get(memberId) ?? []);
        const lost = entry.owned.filter((p) => !next.has(p));
        if (lost.length > 0) await entry.member.revoke(lost);
      }
      for (const [memberId, entry] of group.members) {
        const next = plan.get(memberId) ?? [];
        const had = new Set(entry.owned);
        const gained = next.filter((p) => !had.has(p));
        entry.owned = next;
        if (gained.length > 0) await entry.member.assign(gained);
      }
    });
    return group.rebalancing;
  }
}
