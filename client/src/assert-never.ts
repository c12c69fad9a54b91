/** Exhaustiveness check for a discriminated union's switch: compiles only when every case is handled. */
export function assertNever(value: never, what: string): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
