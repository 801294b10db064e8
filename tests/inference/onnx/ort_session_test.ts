import assert from "node:assert/strict";
import { sessionOptions } from "../../../lib/inference/onnx/ort_session.ts";

type SessionConfig = { session: Record<string, unknown> };

Deno.test("sessionOptions prepacks weights unless asked not to", () => {
  const byDefault = sessionOptions(["cpu"], 2, {}).extra as SessionConfig;
  assert.equal(byDefault.session.disable_prepacking, "0");
  const unpacked = sessionOptions(["cpu"], 2, { prepackWeights: false }).extra as SessionConfig;
  assert.equal(unpacked.session.disable_prepacking, "1");
});

Deno.test("sessionOptions keeps intra-op spinning and the requested threads", () => {
  const options = sessionOptions(["coreml", "cpu"], 3, { prepackWeights: false });
  assert.deepEqual(options.executionProviders, ["coreml", "cpu"]);
  assert.equal(options.intraOpNumThreads, 3);
  assert.deepEqual((options.extra as SessionConfig).session.intra_op, { allow_spinning: "1" });
});
