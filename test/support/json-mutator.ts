import type { SeededRandom } from './seeded-random';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Strings that break naive code: unicode edge cases, injection shapes, control characters. */
export const NASTY_STRINGS: readonly string[] = [
  '😀🔥💥',
  '\u202Eevil\u202C',
  '\u200B\u200D\uFEFF',
  'Ω≈ç√∫˜µ≤≥÷',
  'e\u0301\u0308\u0327',
  '𝕳𝖊𝖑𝖑𝖔',
  'ｆｕｌｌ ｗｉｄｔｈ',
  'a\uD800b',
  '\uDFFF',
  'nul\u0000byte',
  '\u0007\u001b[31mred',
  '<script>alert(1)</script>',
  "'; DROP TABLE users; --",
  '../../../../etc/passwd',
  '%00%2e%2e%2f',
  '${jndi:ldap://127.0.0.1/x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  ' ',
  '',
  '\n\r\t',
];

const WRONG_TYPES: readonly Json[] = [0, -1, 1.5, true, false, null, [], {}, 'string', [1, 'two', null], { nested: { deeper: [] } }];
const HUGE_NUMBERS: readonly number[] = [1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, -(2 ** 31), 2 ** 32, 5e-324, -0];
const EXTRA_FIELDS: readonly [string, Json][] = [
  ['userId', 'mallory'],
  ['senderId', 'mallory'],
  ['id', 'forged-id'],
  ['seq', 1],
  ['admin', true],
  ['roles', ['admin']],
  ['instanceId', 'other-instance'],
  ['connectionId', 'someone-elses'],
];
const TYPE_CONFUSION: readonly string[] = [
  'SEND',
  'send ',
  ' send',
  'Send',
  'sendx',
  '',
  'toString',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'ping\u0000',
];
const PROTO_SNIPPETS: readonly string[] = [
  '"__proto__":{"userId":"mallory","polluted":true,"type":"send"}',
  '"constructor":{"prototype":{"polluted":true}}',
  '"__proto__":null',
  '"__proto__":{"__proto__":{"polluted":true}}',
];

/** A JSON value nested `depth` levels deep. */
function nested(depth: number, r: SeededRandom): Json {
  let v: Json = 'bottom';
  for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { k: v };
  return v;
}

function insertIntoObjectText(text: string, snippet: string): string {
  if (!text.startsWith('{')) return text;
  return text === '{}' ? `{${snippet}}` : `{${snippet},${text.slice(1)}`;
}

export interface Mutated {
  /** The text to send, exactly. */
  readonly text: string;
  /** What was done, for the summary. */
  readonly mutations: readonly string[];
}

/**
 * Mutates a valid JSON object (a frame or a body) in one to three ways: fields of the
 * wrong type, huge numbers, nasty strings, very long strings, deep nesting, prototype
 * pollution keys, extra identity fields, dropped fields, type confusion, duplicate keys,
 * truncation, garbage, other JSON roots. The result may still be valid: the caller
 * decides that with its own oracle.
 */
export function mutateJson(r: SeededRandom, base: JsonObject, { maxLongString = 70_000 }: { maxLongString?: number } = {}): Mutated {
  const value: JsonObject = JSON.parse(JSON.stringify(base)) as JsonObject;
  const mutations: string[] = [];
  let textOps: ((t: string) => string)[] = [];
  const keys = (): string[] => Object.keys(value);
  const rounds = 1 + r.int(3);
  for (let i = 0; i < rounds; i++) {
    const kind = r.pick([
      'wrong-type',
      'huge-number',
      'nasty-string',
      'long-string',
      'nested',
      'proto',
      'extra-field',
      'drop-field',
      'type-confusion',
      'duplicate-key',
      'truncate',
      'garbage',
      'other-root',
      'append-nasty',
    ] as const);
    mutations.push(kind);
    const ks = keys();
    const key = ks.length > 0 ? r.pick(ks) : 'type';
    switch (kind) {
      case 'wrong-type':
        value[key] = r.pick(WRONG_TYPES);
        break;
      case 'huge-number':
        value[key] = r.pick(HUGE_NUMBERS);
        break;
      case 'nasty-string':
        value[key] = r.pick(NASTY_STRINGS);
        break;
      case 'append-nasty':
        value[key] = `${typeof value[key] === 'string' ? value[key] : ''}${r.pick(NASTY_STRINGS)}`;
        break;
      case 'long-string':
        value[key] = 'x'.repeat(r.pick([65, 101, 4_001, 10_000, maxLongString]));
        break;
      case 'nested':
        value[key] = nested(r.pick([5, 50, 500, 2_000]), r);
        break;
      case 'proto': {
        const snippet = r.pick(PROTO_SNIPPETS);
        textOps.push((t) => insertIntoObjectText(t, snippet));
        break;
      }
      case 'extra-field': {
        const [k, v] = r.pick(EXTRA_FIELDS);
        value[k] = v;
        break;
      }
      case 'drop-field':
        delete value[key];
        break;
      case 'type-confusion':
        value['type'] = r.pick(TYPE_CONFUSION);
        break;
      case 'duplicate-key': {
        const k = key;
        const v = JSON.stringify(r.pick(WRONG_TYPES));
        textOps.push((t) => insertIntoObjectText(t, `${JSON.stringify(k)}:${v}`));
        break;
      }
      case 'truncate':
        textOps.push((t) => t.slice(0, r.int(Math.max(1, t.length))));
        break;
      case 'garbage':
        textOps = [() => r.string(1 + r.int(200), ' {}[]":,\\abc123\u0000\u00ff😀')];
        break;
      case 'other-root':
        textOps = [() => r.pick(['null', '[]', '"send"', '42', 'true', '[{"type":"ping"}]', '{}', ''])];
        break;
    }
  }
  let text = JSON.stringify(value);
  for (const op of textOps) text = op(text);
  return { text, mutations };
}
