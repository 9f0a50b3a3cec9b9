// The one way to turn whatever was thrown into text for a log line or a message.

/** An Error's message; anything else thrown (a string, a number, an object) as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
