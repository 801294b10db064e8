/**
 * Where ONNX Runtime placed a session's nodes, read from its profile: which execution
 * provider ran how many nodes of which op. A GPU or CoreML session whose ops fall back to
 * the CPU says so here instead of quietly running slow.
 * @module
 */

/** The nodes one provider ran. */
export interface ProviderPlacement {
  /** ORT's name, e.g. "WebGpuExecutionProvider". */
  provider: string;
  nodes: number;
  /** Nodes per op type, e.g. { MatMulNBits: 32 }. */
  ops: Record<string, number>;
}

/** A session's placement, providers with the most nodes first. */
export interface Placement {
  providers: ProviderPlacement[];
}

interface ProfileEvent {
  cat?: unknown;
  name?: unknown;
  args?: { op_name?: unknown; provider?: unknown };
}

/**
 * Reads ORT's profile JSON (a list of trace events) into a placement: each node counted
 * once, from its `<node>_kernel_time` event's op and provider.
 * @throws {SyntaxError} when the text is not a profile.
 */
export function placementFromProfile(json: string): Placement {
  const events = JSON.parse(json) as unknown;
  if (!Array.isArray(events)) {
    throw new SyntaxError("Cannot read the ORT profile: it is not a list of events");
  }
  const seen = new Set<string>();
  const byProvider = new Map<string, ProviderPlacement>();
  for (const event of events as ProfileEvent[]) {
    if (event?.cat !== "Node" || typeof event.name !== "string") continue;
    if (!event.name.endsWith("_kernel_time") || seen.has(event.name)) continue;
    const op = event.args?.op_name;
    const provider = event.args?.provider;
    if (typeof op !== "string" || typeof provider !== "string") continue;
    seen.add(event.name);
    const entry = byProvider.get(provider) ?? { provider, nodes: 0, ops: {} };
    entry.nodes++;
    entry.ops[op] = (entry.ops[op] ?? 0) + 1;
    byProvider.set(provider, entry);
  }
  return {
    providers: [...byProvider.values()].sort((a, b) => b.nodes - a.nodes),
  };
}

/** Nodes of `placement` that ran on another provider than `provider`. */
export function offProvider(placement: Placement, provider: string): ProviderPlacement[] {
  return placement.providers.filter((p) => p.provider !== provider);
}

/**
 * One line for the log: "all 142 nodes on WebGpuExecutionProvider", or the split with the
 * op types of every provider but the main one.
 */
export function describePlacement(placement: Placement): string {
  const [main, ...rest] = placement.providers;
  if (main === undefined) return "no nodes ran";
  if (rest.length === 0) return `all ${main.nodes} nodes on ${main.provider}`;
  const others = rest.map((p) =>
    `${p.nodes} on ${p.provider} (${
      Object.entries(p.ops).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ×${n}`).join(", ")
    })`
  );
  return `${main.nodes} nodes on ${main.provider}, ${others.join(", ")}`;
}
