/**
 * Makes a `switch` over a discriminated union exhaustive: adding a variant without
 * handling it is a compile error, and an impossible value at run time is a loud one.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`Unhandled ${what}: ${JSON.stringify(value)}`);
}
