const LABEL = new TextEncoder().encode("exo-node/auth/v1");
const encoder = new TextEncoder();

/** Length in bytes of a handshake nonce. */
export const NONCE_BYTES = 32;

/** Returns fresh random bytes for a handshake nonce. */
export function createNonce(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
}

/** Imports a cluster secret as an HMAC-SHA256 key. */
export function importSecret(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign", "verify"],
  );
}

function proofInput(nonce: Uint8Array, nodeId: string): Uint8Array<ArrayBuffer> {
  const id = encoder.encode(nodeId);
  const input = new Uint8Array(LABEL.length + nonce.length + id.length);
  input.set(LABEL, 0);
  input.set(nonce, LABEL.length);
  input.set(id, LABEL.length + nonce.length);
  return input;
}

/**
 * Proves knowledge of the secret: HMAC-SHA256(secret, label || peer's nonce || own node id).
 * Binding the prover's id stops a proof from being replayed under another identity.
 */
export async function createProof(
  key: CryptoKey,
  peerNonce: Uint8Array,
  ownId: string,
): Promise<Uint8Array> {
  const mac = await crypto.subtle.sign("HMAC", key, proofInput(peerNonce, ownId));
  return new Uint8Array(mac);
}

/** Checks a peer's proof over our nonce, in constant time. */
export function verifyProof(
  key: CryptoKey,
  ownNonce: Uint8Array,
  peerId: string,
  proof: Uint8Array,
): Promise<boolean> {
  if (proof.length === 0) return Promise.resolve(false);
  return crypto.subtle.verify("HMAC", key, new Uint8Array(proof), proofInput(ownNonce, peerId));
}
