/** The first line of an error's message: what a bench table or JSON field shows for a failed measurement. */
export function errorLine(error: unknown): string {
  return error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
}
