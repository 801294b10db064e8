/**
 * Resolves once `condition` holds, checking it whenever `subscribe` reports a change and
 * also on a short poll; rejects with `what` after `timeoutMs`. Leaves no timers behind.
 */
export function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
  pollMs = 20,
): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const poll = setInterval(() => {
      if (condition()) {
        clearInterval(poll);
        resolve();
      } else if (performance.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`));
      }
    }, pollMs);
  });
}
