/**
 * Runs an async task now and again `intervalMs` after each run ends, until the component
 * unmounts or a dependency changes; a slow answer never piles up requests.
 * @module
 */
import { useEffect, useRef } from "preact/hooks";

/** Polls `task`; `intervalMs` may change between runs. */
export function usePoll(
  task: (signal: AbortSignal) => Promise<void>,
  intervalMs: number,
  deps: readonly unknown[],
): void {
  const interval = useRef(intervalMs);
  interval.current = intervalMs;
  const latest = useRef(task);
  latest.current = task;
  useEffect(() => {
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      await latest.current(stop.signal).catch(() => {});
      if (!stop.signal.aborted) timer = setTimeout(run, interval.current);
    };
    run();
    return () => {
      stop.abort();
      clearTimeout(timer);
    };
  }, deps);
}
