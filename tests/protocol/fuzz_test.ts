import { deepStrictEqual, equal, ok } from "node:assert/strict";
import {
  encodeMessage,
  FrameDecoder,
  type Message,
  ProtocolError,
} from "../../lib/protocol/mod.ts";
import { seededRandom } from "./_fixtures.ts";
import { concat, int, mutate, randomMessage } from "./_random_frames.ts";

const MAX_FRAME_BYTES = 4096;
const CASES = 10_000;
Deno.test("FrameDecoder survives 10,000 random and mutated frames with only ProtocolError", () => {
  const random = seededRandom(20240601);
  const outcomes = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const frames = Array.from(
      { length: 1 + int(random, 3) },
      () => encodeMessage(randomMessage(random)),
    );
    const damagedAt = int(random, frames.length);
    const [label, damaged] = mutate(random, frames[damagedAt]);
    frames[damagedAt] = damaged;
    const input = concat(frames);
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_FRAME_BYTES });
    const messages: Message[] = [];
    let failed = false;
    try {
      for (let at = 0; at < input.length;) {
        const end = Math.min(input.length, at + 1 + int(random, 200));
        messages.push(...decoder.push(input.subarray(at, end)));
        ok(decoder.bufferedBytes <= 4 + MAX_FRAME_BYTES, `case ${i}: buffered beyond the limit`);
        at = end;
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) {
        throw new Error(`Case ${i} (${label}) threw a non-protocol error`, { cause: error });
      }
      failed = true;
    }
    const outcome = `${label} ${failed ? "rejected" : "accepted"}`;
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (failed || decoder.bufferedBytes > 0) continue;
    // Whatever the decoder accepts, the encoder reproduces byte for byte: the encoding is canonical.
    deepStrictEqual(concat(messages.map(encodeMessage)), input, `case ${i} (${label})`);
  }
  for (
    const outcome of [
      "intact accepted",
      "bit flips rejected",
      "random length rejected",
      "short body rejected",
      "overwritten field rejected",
    ]
  ) {
    ok((outcomes.get(outcome) ?? 0) > 0, `no case ended as "${outcome}": ${[...outcomes]}`);
  }
  equal(outcomes.get("intact rejected"), undefined, "an intact stream was rejected");
});
