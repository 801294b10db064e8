import assert from "node:assert/strict";
import { TEST_LIMITS, testApp } from "./_test_app.ts";
import type { TopologySnapshot } from "../../lib/node/topology_snapshot.ts";

/** A topology fake that records the model it is asked for and plans 16 layers of it. */
function topologyFake(asked: (string | undefined)[]) {
  return (model?: string): Promise<TopologySnapshot> => {
    asked.push(model);
    return Promise.resolve({
      node_id: "node-a",
      nodes: [],
      edges: [],
      partition: model === "nobody/nothing" ? null : {
        model: model ?? "default-model",
        num_layers: 16,
        shards: [{ node_id: "node-a", start_layer: 0, end_layer: 15 }],
      },
    });
  };
}

Deno.test("GET /v1/topology?model= asks for that model's partition, without it for the default's", async () => {
  const asked: (string | undefined)[] = [];
  const { app } = testApp(TEST_LIMITS, { topology: topologyFake(asked) });
  const plain = await (await app.request("/v1/topology")).json();
  assert.equal(plain.partition.model, "default-model");
  const named = await app.request("/v1/topology?model=test-org%2Ftiny");
  assert.equal(named.status, 200);
  assert.equal((await named.json()).partition.model, "test-org/tiny");
  const unknown = await app.request("/v1/topology?model=nobody/nothing");
  assert.equal(unknown.status, 200);
  assert.equal((await unknown.json()).partition, null);
  assert.deepEqual(asked, [undefined, "test-org/tiny", "nobody/nothing"]);
});

Deno.test("GET /v1/topology with a blank model is a 400 naming the param", async (t) => {
  for (const query of ["?model=", "?model=%20%20", "?model"]) {
    await t.step(query, async () => {
      const asked: (string | undefined)[] = [];
      const { app } = testApp(TEST_LIMITS, { topology: topologyFake(asked) });
      const response = await app.request(`/v1/topology${query}`);
      assert.equal(response.status, 400);
      assert.deepEqual(await response.json(), {
        error: {
          message: "model must be a model name",
          type: "invalid_request_error",
          param: "model",
          code: null,
        },
      });
      assert.deepEqual(asked, []);
    });
  }
});
