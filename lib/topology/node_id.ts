/** Longest node id accepted, in characters. */
export const MAX_NODE_ID_LENGTH = 64;

const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Reports whether `id` is a usable node id: 1 to 64 characters of `A-Z a-z 0-9 . _ -`.
 *
 * The set is narrow so an id is safe in log lines, file names and URLs without escaping.
 */
export function isValidNodeId(id: string): boolean {
  return typeof id === "string" && NODE_ID.test(id);
}
