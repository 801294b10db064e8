/** What an `Authorization` header says about the API key. */
export type ApiKeyVerdict = "ok" | "missing" | "wrong";

const BEARER = /^bearer[ \t]+(\S.*)$/i;
const encoder = new TextEncoder();

/**
 * Checks an `Authorization` header against `key`: "ok" for `Bearer <key>`, "missing" when
 * the header is absent or carries no bearer token, "wrong" otherwise. The tokens are
 * compared as SHA-256 digests, byte by byte without stopping early, so the time taken says
 * nothing about how much of a guess was right (nor how long the key is).
 */
export async function checkApiKey(
  authorization: string | undefined,
  key: string,
): Promise<ApiKeyVerdict> {
  const token = BEARER.exec(authorization?.trim() ?? "")?.[1];
  if (token === undefined) return "missing";
  const [given, expected] = await Promise.all([digestOf(token), digestOf(key)]);
  let difference = 0;
  for (let i = 0; i < expected.length; i++) difference |= given[i] ^ expected[i];
  return difference === 0 ? "ok" : "wrong";
}

async function digestOf(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}
