const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** The node id rule in words, for error messages. */
export const NODE_ID_RULE = "1-64 characters of A-Z a-z 0-9 . _ -";

/**
 * Whether `id` can name a node: 1 to 64 characters of `[A-Za-z0-9._-]`. The id travels in
 * handshakes, peers files, file names and log lines, so it is kept free of spaces and
 * separators.
 */
export function isValidNodeId(id: string): boolean {
  return NODE_ID.test(id);
}
