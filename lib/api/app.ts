import { Hono } from "hono";
import { accessGuard } from "./access_guard.ts";
import type { AccessRules } from "./access_policy.ts";
import { ApiError } from "./api_error.ts";
import type { ApiLimits } from "./api_limits.ts";
import { chatCompletionsHandler } from "./chat_completions.ts";
import { completionsHandler } from "./completions.ts";
import { modelsRoute } from "./models_route.ts";
import { type DownloadDeps, downloadsRoute } from "./downloads_route.ts";
import { readJsonBody } from "./read_json_body.ts";
import { toApiError } from "./to_api_error.ts";
import { tokenEncodeHandler } from "./token_encode_route.ts";
import { webPageRoute } from "./web_page.ts";
import type { CompletionService } from "../orchestration/completion_service.ts";
import type { TopologySnapshot } from "../node/topology_snapshot.ts";
import type { RequestsSnapshot } from "../node/exo_node.ts";
import type { EchoResult } from "../node/tensor_echo.ts";

/** What the HTTP API needs from the node. */
export interface AppDeps {
  nodeId: string;
  /**
   * The node's current view of the cluster, with the layer split of `model` (a non-blank
   * name), else of the default model; a null partition when the layer count is not known.
   */
  topology(model?: string): Promise<TopologySnapshot>;
  /** Sends a random tensor to a peer, which echoes it back; checks the bytes. */
  echoTensor(peer: string, shape: number[]): Promise<EchoResult>;
  /** Serves the OpenAI-compatible completion and model routes. */
  completions: CompletionService;
  /** Bounds on request bodies and token budgets. */
  limits: ApiLimits;
  /** The requests the node holds state for, for `GET /v1/diagnostics/requests`. */
  requests?(): RequestsSnapshot;
  /** Download progress, prefetch and removal of models; without it those routes 404. */
  downloads?: DownloadDeps;
  /**
   * Who may call the API beyond loopback hosts and origins, its own page's origin, and no
   * key (see `accessGuard`); main.ts fills in this machine's names and the `--api-*` flags.
   */
  access?: AccessRules;
}

const MAX_ECHO_ELEMENTS = 64 * 1024 * 1024;

/**
 * Builds the node's HTTP API as a Hono app (served by main.ts, driven by tests directly).
 * @throws {RangeError} When a limit is not a positive integer.
 * @throws {TypeError} When `access` lists a host or origin that is not one.
 */
export function createApp(deps: AppDeps): Hono {
  checkLimits(deps.limits);
  const app = new Hono();
  app.use("*", accessGuard(deps.access));

  app.get("/healthcheck", (c) => c.json({ status: "ok", node_id: deps.nodeId }));
  app.get("/v1/topology", async (c) => {
    const model = c.req.query("model");
    if (model !== undefined && model.trim() === "") {
      throw new ApiError(400, "model must be a model name", { param: "model" });
    }
    return c.json(await deps.topology(model));
  });

  app.post("/v1/diagnostics/tensor-echo", async (c) => {
    const body = await readJsonBody(c.req.raw, deps.limits.maxBodyBytes);
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

  app.get("/v1/diagnostics/requests", (c) => {
    const held = deps.requests?.() ?? { origin: [], shards: [] };
    return c.json({
      origin: held.origin,
      shards: held.shards.map((r) => ({
        request_id: r.requestId,
        origin: r.origin,
        shard_index: r.shardIndex,
        start_layer: r.startLayer,
        end_layer: r.endLayer,
        cached_tokens: r.cachedTokens,
      })),
    });
  });

  const chat = chatCompletionsHandler(deps);
  app.post("/v1/chat/completions", chat);
  app.post("/chat/completions", chat);
  const text = completionsHandler(deps);
  app.post("/v1/completions", text);
  app.post("/completions", text);
  app.route("/v1/models", modelsRoute(deps.completions));
  app.post("/v1/chat/token/encode", tokenEncodeHandler(deps));
  if (deps.downloads) app.route("/", downloadsRoute(deps.downloads, deps.limits.maxBodyBytes));

  app.route("/", webPageRoute());
  answerOtherMethods(app);

  app.notFound((c) =>
    new ApiError(404, `No route for ${c.req.method} ${c.req.path}`).toResponse(c)
  );
  app.onError((error, c) => toApiError(error).toResponse(c));
  return app;
}

/**
 * A known path asked with another method answers 405 with `Allow` (as HTTP says), not
 * "no route": a GET of `/v1/chat/completions` is a client using the wrong method.
 * Registered last, so these handlers only run when no route of the path took the method.
 */
function answerOtherMethods(app: Hono): void {
  const methods = new Map<string, Set<string>>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const set = methods.get(route.path) ?? new Set<string>();
    set.add(route.method);
    if (route.method === "GET") set.add("HEAD");
    methods.set(route.path, set);
  }
  for (const [path, set] of methods) {
    const allow = [...set].sort().join(", ");
    app.all(path, (c, next) => {
      // A route of the path took the method and passed (an asset name it does not have).
      if (set.has(c.req.method)) return next();
      c.header("Allow", allow);
      return new ApiError(
        405,
        `Method ${c.req.method} is not allowed for ${c.req.path}; use ${allow}`,
        { code: "method_not_allowed" },
      ).toResponse(c);
    });
  }
}

function checkLimits(limits: ApiLimits): void {
  for (const name of ["maxBodyBytes", "maxGenerateTokens"] as const) {
    const value = limits[name];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new RangeError(
        `Cannot create the API: ${name} must be a positive integer, got ${value}`,
      );
    }
  }
}
