/**
 * Where the time of a session's runs goes, read from ONNX Runtime's profile: per op type,
 * how many nodes run and how long their kernels take, and how much of a run is spent
 * outside any kernel (the executor moving between nodes, feeding inputs and fetching
 * outputs). bench:engine --profile prints it for a decode step.
 * @module
 */

/** One op type's share of a run. */
export interface OpTime {
  op: string;
  /** Nodes of this op a run executes. */
  nodes: number;
  /** Mean kernel time per run, µs. */
  micros: number;
}

/** The mean run of a profile's last runs. */
export interface ProfileSummary {
  /** Runs summarized. */
  runs: number;
  /** Mean wall time of one run (ORT's model_run), µs. */
  runMicros: number;
  /** Mean time per run inside kernels, µs. */
  kernelMicros: number;
  /** Op types, the most expensive first. */
  ops: OpTime[];
}

interface ProfileEvent {
  cat?: unknown;
  name?: unknown;
  ts?: unknown;
  dur?: unknown;
  args?: { op_name?: unknown };
}

interface Run {
  start: number;
  end: number;
}

/**
 * Summarizes `lastRuns` runs of ORT's profile JSON (a list of trace events), the last ones
 * but `skipLast`: every `<node>_kernel_time` event inside one of those runs' `model_run`
 * span counts.
 * @throws {SyntaxError} when the text is not a profile.
 * @throws {RangeError} when the profile holds fewer runs than asked for.
 */
export function summarizeProfile(json: string, lastRuns: number, skipLast = 0): ProfileSummary {
  const events = JSON.parse(json) as unknown;
  if (!Array.isArray(events)) {
    throw new SyntaxError("Cannot read the ORT profile: it is not a list of events");
  }
  const typed = events as ProfileEvent[];
  const runs: Run[] = typed
    .filter((e) => e?.cat === "Session" && e.name === "model_run" && isTimed(e))
    .map((e) => ({ start: e.ts as number, end: (e.ts as number) + (e.dur as number) }))
    .sort((a, b) => a.start - b.start);
  const wanted = lastRuns + skipLast;
  if (
    !Number.isInteger(lastRuns) || lastRuns < 1 || !Number.isInteger(skipLast) || skipLast < 0 ||
    runs.length < wanted
  ) {
    throw new RangeError(
      `Cannot summarize the ORT profile: asked for ${lastRuns} runs before its last ${skipLast}, ` +
        `it holds ${runs.length}`,
    );
  }
  const kept = runs.slice(runs.length - wanted, runs.length - skipLast);
  const byOp = new Map<string, { nodes: number; micros: number }>();
  let kernelMicros = 0;
  for (const event of typed) {
    if (event?.cat !== "Node" || typeof event.name !== "string" || !isTimed(event)) continue;
    if (!event.name.endsWith("_kernel_time") || typeof event.args?.op_name !== "string") continue;
    const ts = event.ts as number;
    if (!kept.some((run) => ts >= run.start && ts <= run.end)) continue;
    const entry = byOp.get(event.args.op_name) ?? { nodes: 0, micros: 0 };
    entry.nodes++;
    entry.micros += event.dur as number;
    byOp.set(event.args.op_name, entry);
    kernelMicros += event.dur as number;
  }
  const ops = [...byOp].map(([op, { nodes, micros }]) => ({
    op,
    nodes: nodes / lastRuns,
    micros: micros / lastRuns,
  })).sort((a, b) => b.micros - a.micros);
  const runMicros = kept.reduce((sum, run) => sum + run.end - run.start, 0) / lastRuns;
  return { runs: lastRuns, runMicros, kernelMicros: kernelMicros / lastRuns, ops };
}

function isTimed(event: ProfileEvent): boolean {
  return typeof event.ts === "number" && typeof event.dur === "number";
}

/**
 * The summary as lines: the run, the time outside kernels, then one line per op type down
 * to `top` types (the rest summed), each with its nodes per run, µs and share of the run.
 */
export function describeProfile(summary: ProfileSummary, top = 12): string[] {
  const share = (micros: number) => `${(100 * micros / summary.runMicros).toFixed(1)}%`;
  const nodes = summary.ops.reduce((sum, op) => sum + op.nodes, 0);
  const outside = summary.runMicros - summary.kernelMicros;
  const lines = [
    `one run: ${(summary.runMicros / 1000).toFixed(2)} ms, ${nodes} nodes ` +
    `(mean of ${summary.runs} runs)`,
    `  outside kernels: ${(outside / 1000).toFixed(2)} ms (${share(outside)})`,
  ];
  const shown = summary.ops.slice(0, top);
  for (const op of shown) {
    lines.push(
      `  ${op.op}: ${op.nodes} nodes, ${(op.micros / 1000).toFixed(2)} ms (${share(op.micros)})`,
    );
  }
  const rest = summary.ops.slice(top);
  if (rest.length > 0) {
    const micros = rest.reduce((sum, op) => sum + op.micros, 0);
    const count = rest.reduce((sum, op) => sum + op.nodes, 0);
    lines.push(
      `  ${rest.length} other op types: ${count} nodes, ${(micros / 1000).toFixed(2)} ms ` +
        `(${share(micros)})`,
    );
  }
  return lines;
}
