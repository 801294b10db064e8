import { type Flag, FLAG_GROUPS, FLAGS } from "./_flag_table.ts";
import { VERSION } from "./version.ts";

const WIDTH = 100;
const INDENT = "  ";
/** Where descriptions start; a longer flag puts its description on the next line. */
const COLUMN = 30;

/**
 * The text `exo-node --help` prints: usage lines, then every flag grouped with its value,
 * its default and any environment variable it falls back to, then the environment variables.
 * No line is wider than 100 characters.
 */
export function helpText(): string {
  const lines = [
    `exo-node ${VERSION}: serve one large language model from several machines`,
    "",
    "Usage:",
    `${INDENT}exo-node [flags]              join the cluster and serve the OpenAI-compatible API`,
    `${INDENT}exo-node run <model> [flags]  answer --prompt with <model>, then exit`,
    `${INDENT}exo-node --help | --version`,
  ];
  for (const group of FLAG_GROUPS) {
    lines.push("", `${group}:`);
    for (const flag of FLAGS) {
      if (flag.group === group) lines.push(...describe(flag));
    }
  }
  lines.push(
    "",
    "Environment:",
    `${INDENT}EXO_CLUSTER_SECRET    cluster secret when no --cluster-secret[-file] is given`,
    `${INDENT}EXO_API_KEY           API key when no --api-key[-file] is given`,
    `${INDENT}EXO_NODE_HOME         state directory when --state-dir is not given`,
    `${INDENT}HOME                  the state directory is $HOME/.exo-node when neither is set`,
    `${INDENT}INIT_CWD              relative paths are taken from this folder (deno task and npm set it)`,
    "",
    "Secrets on the command line are shown on screen (deno task echoes its command) and to other",
    "users (ps): give them in EXO_CLUSTER_SECRET and EXO_API_KEY or in files (--cluster-secret-file).",
    "",
    "A value follows its flag after a space or an equals sign: --node-port 5000, --node-port=5000.",
    "Each flag may be given once. Exit status 2 means the command line could not be used.",
  );
  return lines.join("\n") + "\n";
}

function describe(flag: Flag): string[] {
  const left = INDENT + usageOf(flag);
  const chunks = [...flag.help.split(" "), ...defaultOf(flag)];
  if (left.length + 2 > COLUMN) return [left, ...wrap(chunks)];
  const [first, ...rest] = wrap(chunks);
  return [left.padEnd(COLUMN) + first.trimStart(), ...rest];
}

function usageOf(flag: Flag): string {
  switch (flag.kind) {
    case "value":
      return `${flag.name} ${flag.placeholder}`;
    case "switch":
      return `--[no-]${flag.name.slice(2)}`;
    case "action":
      return `${flag.short}, ${flag.name}`;
  }
}

/** The default as one unbreakable chunk, so wrapping never splits it. */
function defaultOf(flag: Flag): string[] {
  switch (flag.kind) {
    case "value": {
      const fixed = flag.default === undefined ? flag.defaultText : String(flag.default);
      const env = flag.env === undefined ? "" : `$${flag.env}, else `;
      const only = flag.only === undefined ? [] : [`(${flag.only} only)`];
      return [...only, `(default: ${env}${fixed ?? "none"})`];
    }
    case "switch":
      return ["(default: off)"];
    case "action":
      return [];
  }
}

function wrap(chunks: string[]): string[] {
  const margin = " ".repeat(COLUMN);
  const lines: string[] = [];
  let line = margin;
  for (const chunk of chunks) {
    if (line !== margin && line.length + 1 + chunk.length > WIDTH) {
      lines.push(line);
      line = margin;
    }
    line += line === margin ? chunk : ` ${chunk}`;
  }
  lines.push(line);
  return lines;
}
