/**
 * Memory and sizes the one way every view shows them (the log, the terminal view, the web
 * page): GB = MiB / 1024 = bytes / 2^30, one decimal below 100 GB and none from there;
 * smaller sizes in whole MB, KB or B. Pure, with no imports, so the page's bundle shares it.
 *
 * @module
 */

/** A memory figure in MB (MiB, as device capabilities give it): "23.5 GB", "192 GB". */
export function formatMemory(memoryMb: number): string {
  return gigabytes(memoryMb / 1024);
}

/** A size in bytes: "2.3 GB", "324 MB", "12 KB", "512 B". */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${Math.max(0, Math.round(bytes))} B`;
  const kib = Math.round(bytes / 1024);
  if (kib < 1024) return `${kib} KB`;
  const mib = Math.round(bytes / 2 ** 20);
  return mib < 1024 ? `${mib} MB` : gigabytes(bytes / 2 ** 30);
}

function gigabytes(gib: number): string {
  // 99.96 rounds to "100.0": from there on no decimal, as for 100 GB.
  return Number(gib.toFixed(1)) >= 100 ? `${gib.toFixed(0)} GB` : `${gib.toFixed(1)} GB`;
}
