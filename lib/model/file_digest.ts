import { createHash, type Hash } from "node:crypto";

/** How a downloaded file is checked against the hub's etag. */
export type ExpectedDigest =
  /** An LFS file: the etag is the sha256 of the content. */
  | { kind: "sha256"; hex: string }
  /** A file kept in git: the etag is the git blob sha1 (of `blob <size>\0` + content). */
  | { kind: "git-sha1"; hex: string };

/** What the hub's etag promises about a file's bytes; null when it promises nothing known. */
export function expectedDigest(etag: string): ExpectedDigest | null {
  const hex = etag.toLowerCase();
  if (/^[0-9a-f]{64}$/.test(hex)) return { kind: "sha256", hex };
  if (/^[0-9a-f]{40}$/.test(hex)) return { kind: "git-sha1", hex };
  return null;
}

/** An incremental hash of a file's bytes as `expected` defines it. */
export class FileDigest {
  readonly expected: ExpectedDigest;
  #hash: Hash;

  /** Starts a hash for a file of `size` bytes. */
  constructor(expected: ExpectedDigest, size: number) {
    this.expected = expected;
    if (expected.kind === "sha256") {
      this.#hash = createHash("sha256");
    } else {
      this.#hash = createHash("sha1");
      this.#hash.update(`blob ${size}\0`);
    }
  }

  /** Adds the next bytes. */
  update(bytes: Uint8Array): void {
    this.#hash.update(bytes);
  }

  /** The digest in hex; the hash cannot be used after. */
  hex(): string {
    return this.#hash.digest("hex");
  }
}
