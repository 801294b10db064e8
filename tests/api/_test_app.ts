import OpenAI from "openai";
import type { Hono } from "hono";
import { type AppDeps, createApp } from "../../lib/api/app.ts";
import type { ApiLimits } from "../../lib/api/api_limits.ts";
import { FakeCompletionService } from "./_fake_service.ts";

/** The limits the tests serve with. */
export const TEST_LIMITS: ApiLimits = {
  maxBodyBytes: 4096,
  defaultModel: "llama-3.2-1b",
  maxGenerateTokens: 100,
};

/** An app over a fresh fake service; `deps` replaces any of the other dependencies. */
export function testApp(limits: ApiLimits = TEST_LIMITS, deps: Partial<AppDeps> = {}): {
  app: Hono;
  service: FakeCompletionService;
} {
  const service = new FakeCompletionService();
  const app = createApp({
    nodeId: "node-a",
    topology: () => Promise.resolve({ node_id: "node-a", nodes: [], edges: [], partition: null }),
    echoTensor: () => Promise.reject(new Error("Cannot echo: no peers in tests")),
    completions: service,
    limits,
    ...deps,
  });
  return { app, service };
}

/** Serves `app` on a free loopback port for `body`, with an OpenAI client pointed at it. */
export async function withServer(
  app: Hono,
  body: (client: OpenAI, baseUrl: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, app.fetch);
  const baseUrl = `http://127.0.0.1:${server.addr.port}`;
  try {
    await body(new OpenAI({ apiKey: "test", baseURL: `${baseUrl}/v1`, maxRetries: 0 }), baseUrl);
  } finally {
    await server.shutdown();
  }
}

/** Sends a JSON body to the app without a socket. */
export function post(app: Hono, path: string, body: unknown): Promise<Response> {
  return Promise.resolve(app.request(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  }));
}
