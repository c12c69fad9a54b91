import type { IHeaders } from 'kafkajs';
import type { RawRecord } from '../record-pipeline';

function headerValue(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  const one = Array.isArray(value) ? value[0] : value;
  return one === undefined ? undefined : Buffer.isBuffer(one) ? one.toString('utf8') : String(one);
}

/** A fetched kafkajs message as the record pipeline reads it: UTF-8 key and headers (the first value of a repeated header). */
export function toRaw(
  topic: string,
  partition: number,
  m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders },
): RawRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) {
    const s = headerValue(v);
    if (s !== undefined) headers[k] = s;
  }
  return { topic, partition, offset: m.offset, key: m.key === null ? null : m.key.toString('utf8'), value: m.value, headers };
}
