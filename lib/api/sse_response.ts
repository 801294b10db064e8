import type { Context } from "hono";
import { toApiError } from "./to_api_error.ts";

const encoder = new TextEncoder();

/**
 * Streams `events` as server-sent events, each `data: <json>\n\n`, ending with
 * `data: [DONE]\n\n`. An error from `events` becomes one `data: {"error": ...}` event and
 * ends the stream without `[DONE]`, as OpenAI does. When the client goes away, `onCancel`
 * runs (it should stop whatever feeds `events`) and `events` is returned.
 */
export function sseResponse(
  c: Context,
  events: AsyncGenerator<unknown, void>,
  onCancel: () => void,
): Response {
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let line: string;
      let last = false;
      try {
        const next = await events.next();
        last = next.done === true;
        line = last ? "[DONE]" : JSON.stringify(next.value);
      } catch (error) {
        last = true;
        line = JSON.stringify(toApiError(error).toBody());
      }
      if (cancelled) return;
      controller.enqueue(encoder.encode(`data: ${line}\n\n`));
      if (last) controller.close();
    },
    cancel() {
      cancelled = true;
      onCancel();
      events.return().catch(() => {});
    },
  }, { highWaterMark: 0 });
  return c.body(body, 200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    "x-accel-buffering": "no",
  });
}
