import type { DownloadEvent } from "../model/download_progress.ts";

/** One node as the view draws it. */
export interface TuiNode {
  id: string;
  chip: string;
  memoryMb: number;
  /** fp32 TFLOPS. */
  tflops: number;
  alive: boolean;
  /** This node. */
  self: boolean;
  /** Ping round trip of a direct link; null for this node or when not measured. */
  rttMs: number | null;
  /** Its layers in the split of the view's model; null when it gets none or none is known. */
  layers: { start: number; end: number } | null;
  /** Running a shard step right now (or within the last moment). */
  computing: boolean;
  /** Where it runs its shard of the view's model; null before it loaded one. */
  engine: TuiEngine | null;
}

/** Where a node runs its shard, and what `--execution-provider auto` measured there. */
export interface TuiEngine {
  /** The provider the shard runs on, and its weights: "webgpu", "q4". */
  provider: string;
  dtype: string;
  /** The provider wanted (named, or chosen by auto) when the shard runs on another. */
  fellBackFrom: string | null;
  /** What auto measured; null when the provider was named. */
  auto: TuiAuto | null;
}

/** auto's figures for a node, as its line shows them. */
export interface TuiAuto {
  /** Decode tokens/s of the candidate chosen; null when not measured. */
  tokensPerSecond: number | null;
  /**
   * The fastest other candidate (decode tokens/s), else the first one out (null figure);
   * null when auto had one candidate.
   */
  runnerUp: { provider: string; dtype: string; tokensPerSecond: number | null } | null;
}

/** A request as the view shows it: its prompt, its text so far and its figures. */
export interface TuiRequest {
  id: string;
  /** The node that received it and streams it to the client. */
  origin: string;
  model: string;
  /** A short summary of the prompt (the last user message). */
  prompt: string;
  /** The end of the text generated so far. */
  output: string;
  state: "running" | "finished" | "failed";
  /** Tokens generated so far. */
  tokens: number;
  /** Decode speed; null until two tokens arrived. */
  tokensPerSecond: number | null;
  /** Time to first token; null until it arrived. */
  ttftMs: number | null;
  /** Why it failed. */
  error?: string;
  /** When it started, ms since the epoch. */
  startedAt: number;
}

/** A log line of the log pane. */
export interface TuiLogLine {
  /** "HH:MM:SS" local time. */
  time: string;
  level: "debug" | "info" | "warn" | "error";
  text: string;
}

/** Everything the view shows, in one value: rendering is a function of it and the size. */
export interface TuiViewModel {
  nodeId: string;
  version: string;
  /** Where the web page and the API answer, e.g. "http://192.168.2.2:52415". */
  apiUrls: string[];
  nodePort: number;
  /** The file every log line goes to. */
  logFile: string;
  /** The model whose layer split the nodes show, with its layer count when known. */
  model: { id: string; numLayers: number | null } | null;
  nodes: TuiNode[];
  /** Newest first. */
  requests: TuiRequest[];
  downloads: DownloadEvent[];
  /** Warnings and errors, oldest first. */
  logs: TuiLogLine[];
  /** Info lines (peers joining, shards loading, requests ending), oldest first. */
  activity: TuiLogLine[];
}

/** The terminal's size in cells. */
export interface ScreenSize {
  columns: number;
  rows: number;
}
