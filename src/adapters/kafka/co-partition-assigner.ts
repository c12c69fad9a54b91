import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';
import { assignCoPartitions } from '../../domain/co-partition-assignment';

/**
 * kafkajs partition assigner for the owner group: partition p of every subscribed topic
 * goes to the same member (co-partitioning), balanced and sticky (see
 * domain/co-partition-assignment). Each member sends, in its join metadata, the
 * partitions it owns now and its instance id, so the leader can keep partitions where
 * they are and operators can map member ids to instances.
 *
 * The request topics must have the same partition count; when they do not, co-partitioning
 * is impossible and the assignment covers the largest count (a topic without partition p
 * simply has nothing there), and `onMismatch` reports it.
 */
export const CO_PARTITION_ASSIGNER = 'CoPartitionSticky';

export interface MemberUserData {
  readonly instanceId: string;
  readonly owned: readonly number[];
}

export function encodeUserData(data: MemberUserData): Buffer {
  return Buffer.from(JSON.stringify(data));
}

export function decodeUserData(buffer: Buffer | null | undefined): MemberUserData {
  if (buffer === null || buffer === undefined || buffer.length === 0) return { instanceId: 'unknown', owned: [] };
  try {
    const parsed: unknown = JSON.parse(buffer.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && 'owned' in parsed && Array.isArray(parsed.owned)) {
      const owned = parsed.owned.filter((p): p is number => Number.isInteger(p));
      const instanceId = 'instanceId' in parsed && typeof parsed.instanceId === 'string' ? parsed.instanceId : 'unknown';
      return { instanceId, owned };
    }
  } catch {
    // A member running other code: treat it as owning nothing.
  }
  return { instanceId: 'unknown', owned: [] };
}

export function createCoPartitionAssigner({
  instanceId,
  onJoin,
  onMismatch,
}: {
  instanceId: string;
  /**
   * Called each time this member sends JoinGroup — with kafkajs's eager protocol, after it
   * stopped fetching every partition. Returns the partitions it owned until then, which
   * the leader uses to keep assignments sticky.
   */
  onJoin: () => readonly number[];
  onMismatch?: (counts: Record<string, number>) => void;
}): PartitionAssigner {
  return ({ cluster }) => ({
    name: CO_PARTITION_ASSIGNER,
    version: 1,
    async assign({ members, topics }) {
      const counts: Record<string, number> = {};
      for (const t of topics) counts[t] = cluster.findTopicPartitionMetadata(t).length;
      const distinct = new Set(Object.values(counts));
      if (distinct.size > 1) onMismatch?.(counts);
      const partitionCount = Math.max(0, ...Object.values(counts));
      const plan = assignCoPartitions(
        members.map((m) => ({
          memberId: m.memberId,
          owned: decodeUserData(AssignerProtocol.MemberMetadata.decode(m.memberMetadata)?.userData).owned,
        })),
        partitionCount,
      );
      return members.map(({ memberId }) => {
        const mine = plan.get(memberId) ?? [];
        const assignment: Record<string, number[]> = {};
        for (const t of topics) assignment[t] = mine.filter((p) => p < (counts[t] ?? 0));
        return {
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment, userData: Buffer.alloc(0) }),
        };
      });
    },
    protocol({ topics }) {
      return {
        name: CO_PARTITION_ASSIGNER,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: encodeUserData({ instanceId, owned: onJoin() }),
        }),
      };
    },
  });
}
