import assert from "node:assert/strict";
import { sessionOptions } from "../../../lib/inference/onnx/ort_session.ts";

type SessionConfig = { session: Record<string, unknown> };

Deno.test("sessionOptions prepacks weights unless asked not to", () => {
  const byDefault = sessionOptions(["cpu"], 2, {}).extra as SessionConfig;
  assert.equal(byDefault.session.disable_prepacking, "0");
  const unpacked = sessionOptions(["cpu"], 2, { prepackWeights: false }).extra as SessionConfig;
  assert.equal(unpacked.session.disable_prepacking, "1");
});

Deno.test("sessionOptions spins intra-op threads during a run only, with the requested threads", () => {
  const options = sessionOptions(["coreml", "cpu"], 3, { prepackWeights: false });
  assert.deepEqual(options.executionProviders, ["coreml", "cpu"]);
  assert.equal(options.intraOpNumThreads, 3);
  const { session } = options.extra as SessionConfig;
  assert.deepEqual(session.intra_op, { allow_spinning: "1" });
  // Spinning on between runs took the cores from the other node of a 2-node ring.
  assert.equal(session.force_spinning_stop, "1");
});
