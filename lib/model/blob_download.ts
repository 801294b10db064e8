/**
 * Downloads one file into the hub cache's blob store: streamed to `<blob>.incomplete`,
 * resumed with `Range` after a cut, checked against the hub's etag, then renamed into place.
 *
 * @module
 */

import { dirname } from "node:path";
import { abortableDelay } from "../transport/abortable_delay.ts";
import { isFile } from "./hub_cache.ts";
import type { HubClient, RemoteFile } from "./hub_client.ts";
import { expectedDigest, FileDigest } from "./file_digest.ts";

/** What one blob download needs. */
export interface BlobDownloadOptions {
  client: HubClient;
  remote: RemoteFile;
  /** `blobs/<etag>` in the hub cache. */
  blobPath: string;
  /** Called with the bytes of the file present so far (after each chunk, and on resume). */
  onBytes(bytes: number): void;
  /** Attempts in all (default 5). */
  attempts?: number;
  /** First retry delay in ms, doubled on each retry (default 500). */
  backoffMs?: number;
  signal?: AbortSignal;
}

/** The download failed for good (an HTTP error that retrying cannot fix, or every attempt). */
export class BlobDownloadError extends Error {
  /** Builds the error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "BlobDownloadError";
  }
}

/**
 * Makes `blobPath` hold the remote file, verified. Keeps a partial file across attempts
 * (and across runs) and asks only for the bytes after it; a file whose digest does not
 * match is thrown away and fetched again.
 */
export async function downloadBlob(options: BlobDownloadOptions): Promise<void> {
  const { remote, blobPath } = options;
  if (await isFile(blobPath)) {
    options.onBytes(remote.size);
    return;
  }
  await Deno.mkdir(dirname(blobPath), { recursive: true });
  const attempts = options.attempts ?? 5;
  let delay = options.backoffMs ?? 500;
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    options.signal?.throwIfAborted();
    try {
      await attemptDownload(options);
      return;
    } catch (error) {
      if (error instanceof BlobDownloadError || options.signal?.aborted) throw error;
      lastError = error;
    }
    if (attempt < attempts) {
      await abortableDelay(delay, options.signal ?? new AbortController().signal);
      delay *= 2;
    }
  }
  throw new BlobDownloadError(
    `Cannot download ${remote.name}: ${attempts} attempts failed, the last with: ${
      (lastError as Error)?.message ?? lastError
    }`,
    { cause: lastError },
  );
}

/** A retryable failure: the connection dropped, or the bytes did not match. */
class TransientError extends Error {}

async function attemptDownload(options: BlobDownloadOptions): Promise<void> {
  const { client, remote, blobPath } = options;
  const partial = `${blobPath}.incomplete`;
  const expected = expectedDigest(remote.etag);
  const newDigest = () => expected === null ? null : new FileDigest(expected, remote.size);
  let digest = newDigest();
  let have = await hashPartial(partial, remote.size, digest);
  options.onBytes(have);

  const response = have < remote.size || remote.size === 0
    ? await client.get(remote.url, have, options.signal)
    : null;
  let file: Deno.FsFile | null = null;
  try {
    if (response !== null) {
      if (response.status === 206) {
        const start = Number(
          /^bytes (\d+)-/.exec(response.headers.get("Content-Range") ?? "")?.[1],
        );
        if (start !== have) {
          await response.body?.cancel();
          throw new TransientError(`the server resumed at byte ${start}, not ${have}`);
        }
      } else if (response.status === 200) {
        // The server ignored the range: start over from the first byte.
        if (have > 0) {
          have = 0;
          await Deno.truncate(partial, 0);
          digest = newDigest();
          options.onBytes(0);
        }
      } else {
        await response.body?.cancel();
        const message = `the server answered ${response.status} ${response.statusText}`;
        if (response.status >= 500 || response.status === 408 || response.status === 429) {
          throw new TransientError(message);
        }
        throw new BlobDownloadError(`Cannot download ${remote.name}: ${message}`);
      }
      file = await Deno.open(partial, { write: true, create: true, append: true });
      if (response.body !== null) {
        for await (const chunk of response.body) {
          if (have + chunk.byteLength > remote.size) {
            throw new TransientError(`the server sent more than ${remote.size} bytes`);
          }
          await writeAll(file, chunk);
          digest?.update(chunk);
          have += chunk.byteLength;
          options.onBytes(have);
        }
      }
      file.close();
      file = null;
    }
  } finally {
    file?.close();
  }
  if (have !== remote.size) {
    throw new TransientError(`the transfer ended at byte ${have} of ${remote.size}`);
  }
  if (digest !== null) {
    const actual = digest.hex();
    if (actual !== digest.expected.hex) {
      await Deno.remove(partial);
      options.onBytes(0);
      throw new TransientError(
        `the content's ${digest.expected.kind} is ${actual}, the hub's etag is ${digest.expected.hex}`,
      );
    }
  }
  await Deno.rename(partial, blobPath);
}

/** Feeds an existing partial file to the digest; returns its length (0 when absent or too long). */
async function hashPartial(
  partial: string,
  size: number,
  digest: FileDigest | null,
): Promise<number> {
  let length: number;
  try {
    length = (await Deno.stat(partial)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
  if (length > size) {
    await Deno.truncate(partial, 0);
    return 0;
  }
  if (digest !== null && length > 0) {
    // The readable stream closes the file when it ends.
    const file = await Deno.open(partial, { read: true });
    for await (const chunk of file.readable) digest.update(chunk);
  }
  return length;
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.byteLength) written += await file.write(bytes.subarray(written));
}
