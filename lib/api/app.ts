import { Hono } from "hono";
import { cors } from "hono/cors";
import { ApiError } from "./api_error.ts";
import type { TopologySnapshot } from "../node/topology_snapshot.ts";

/** Round trip of a test tensor through a peer, as the diagnostics route reports it. */
export interface EchoResult {
  peer: string;
  shape: number[];
  bytes: number;
  roundTripMs: number;
}

/** What the HTTP API needs from the node. */
export interface AppDeps {
  nodeId: string;
  /** The node's current view of the cluster. */
  topology(): TopologySnapshot;
  /** Sends a random tensor to a peer, which echoes it back; checks the bytes. */
  echoTensor(peer: string, shape: number[]): Promise<EchoResult>;
}

const MAX_ECHO_ELEMENTS = 64 * 1024 * 1024;

/** Builds the node's HTTP API as a Hono app (served by main.ts, driven by tests directly). */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  app.use("*", cors());

  app.get("/healthcheck", (c) => c.json({ status: "ok", node_id: deps.nodeId }));
  app.get("/v1/topology", (c) => c.json(deps.topology()));

  app.post("/v1/diagnostics/tensor-echo", async (c) => {
    const body = await readJsonObject(c.req.raw);
    const peer = body.peer;
    if (typeof peer !== "string" || peer === "") {
      throw new ApiError(400, "peer must be a node id", { param: "peer" });
    }
    const shape = body.shape ?? [1, 1, 2048];
    if (
      !Array.isArray(shape) || shape.length === 0 || shape.length > 8 ||
      !shape.every((d) => Number.isSafeInteger(d) && d > 0)
    ) {
      throw new ApiError(400, "shape must be a list of 1 to 8 positive integers", {
        param: "shape",
      });
    }
    const elements = shape.reduce((a: number, b: number) => a * b, 1);
    if (elements > MAX_ECHO_ELEMENTS) {
      throw new ApiError(400, `shape has ${elements} elements, above ${MAX_ECHO_ELEMENTS}`, {
        param: "shape",
      });
    }
    const result = await deps.echoTensor(peer, shape);
    return c.json({
      peer: result.peer,
      shape: result.shape,
      bytes: result.bytes,
      round_trip_ms: result.roundTripMs,
    });
  });

  app.notFound((c) =>
    new ApiError(404, `No route for ${c.req.method} ${c.req.path}`).toResponse(c)
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) return error.toResponse(c);
    return new ApiError(500, error instanceof Error ? error.message : String(error)).toResponse(c);
  });
  return app;
}

async function readJsonObject(request: Request): Promise<Record<string, unknown>> {
  let value: unknown;
  try {
    value = await request.json();
  } catch (error) {
    throw new ApiError(400, `Invalid JSON body: ${error instanceof Error ? error.message : error}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ApiError(400, "Request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}
