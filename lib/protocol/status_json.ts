/**
 * The JSON object a `status` message carries, or null when its text is not JSON or not an
 * object. Each kind of status event checks its own fields.
 */
export function parseStatusObject(json: string): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  return typeof value === "object" && value !== null ? value as Record<string, unknown> : null;
}
