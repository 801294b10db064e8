/**
 * What an empty conversation shows: the chosen model, where it runs, and a few prompts
 * to start with.
 * @module
 */
import type { JSX } from "preact";
import type { ModelStatus } from "../lib/model_status.ts";

const SUGGESTIONS = [
  "Explain pipeline parallelism in two paragraphs",
  "Write a haiku about two Macs sharing one model",
  "Show a Python function that merges sorted lists",
];

/** Props of {@linkcode Welcome}. */
export interface WelcomeProps {
  model: string | null;
  status: ModelStatus | undefined;
  /** Ids of the nodes that answer. */
  nodes: string[];
  onPick(text: string): void;
}

/** The empty conversation. */
export function Welcome(props: WelcomeProps): JSX.Element {
  const state = props.status?.state;
  const where = props.nodes.length === 0
    ? "your cluster"
    : props.nodes.length === 1
    ? `node ${props.nodes[0]}`
    : `${props.nodes.length} nodes: ${props.nodes.join(", ")}`;
  return (
    <div class="welcome">
      <h1>{props.model === null ? "Choose a model to begin" : `Chat with ${props.model}`}</h1>
      <p class="muted">
        {props.model === null
          ? "Pick a model above; one that is not downloaded yet is fetched layer by layer across the cluster."
          : state === "downloading"
          ? `It is downloading now. Messages you send wait for it, on ${where}.`
          : state === "absent"
          ? "It is not on the cluster yet: your first message offers to download it."
          : state === "failed"
          ? "Its last download failed: your first message offers to retry, or pick another model above."
          : `Running on ${where}. Each node holds a slice of the model's layers.`}
      </p>
      {props.model !== null && (
        <div class="suggestions">
          {SUGGESTIONS.map((text) => (
            <button
              type="button"
              class="suggestion"
              onClick={() => props.onPick(text)}
            >
              {text}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
