import { Hono } from "hono";
import { ApiError } from "./api_error.ts";
import type { CompletionService, ModelEntry } from "../orchestration/completion_service.ts";

/**
 * `GET /` lists the models (OpenAI's `list` of `model` objects, with exo's `name` and
 * `available_locally`, and `local_bytes`, `is_default`, `parameters`, `download_bytes` and
 * `memory_bytes`, null when not known); `GET /{id}` answers one, where the id may hold
 * slashes (`org/name`). Mounted under `/v1/models`.
 *
 * `created` is when the app was built: the service does not know when a model was made.
 */
export function modelsRoute(completions: CompletionService): Hono {
  const created = Math.floor(Date.now() / 1000);
  const route = new Hono();
  route.get("/", async (c) => {
    const models = await completions.models();
    return c.json({ object: "list", data: models.map((model) => toModel(model, created)) });
  });
  route.get("/:id{.+}", async (c) => {
    const id = c.req.param("id");
    const model = (await completions.models()).find((entry) => entry.id === id);
    if (model === undefined) {
      throw new ApiError(404, `Model ${JSON.stringify(id)} not found`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json(toModel(model, created));
  });
  return route;
}

function toModel(model: ModelEntry, created: number) {
  return {
    id: model.id,
    object: "model",
    created,
    owned_by: "exo",
    name: model.name,
    available_locally: model.availableLocally,
    local_bytes: model.localBytes,
    is_default: model.isDefault,
    parameters: model.size?.parameters ?? null,
    download_bytes: model.size?.downloadBytes ?? null,
    memory_bytes: model.size?.memoryBytes ?? null,
  };
}
