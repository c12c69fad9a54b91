import type { IdleCpuResult } from './idle-cpu';
import type { IdleMemoryResult } from './idle-memory';
import type { LoadResult } from './load-run';
import type { LoginRateResult } from './login-rate';

/** Everything measured on one target (ours, a baseline, a variant or the peer). */
export interface TargetResults {
  readonly target: string;
  readonly idle: IdleMemoryResult | undefined;
  /** Instances started and joined, no client connected. */
  readonly idleCpu?: IdleCpuResult;
  /** Kafka hops per delivery in the measured design (ours only). */
  readonly kafkaHops?: number;
  readonly fixed: LoadResult[];
  readonly steps: LoadResult[];
  /** The best step that kept p99 ≤ limit (100 ms) with nothing lost. */
  readonly sustained: LoadResult | undefined;
  /** The best step that kept p99 ≤ issue #12's limit (250 ms) with nothing lost; absent in runs before it. */
  readonly sustainedAtTarget?: LoadResult | undefined;
  readonly login?: LoginRateResult;
}
