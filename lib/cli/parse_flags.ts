import { isAbsolute, join, resolve } from "node:path";
import { FlagError } from "./flag_error.ts";
import type { NodeOptions } from "./node_options.ts";
import {
  EXO_ONLY_FLAGS,
  type Flag,
  FLAGS,
  type SwitchFlag,
  type ValueFlag,
} from "./_flag_table.ts";
import { closest } from "./_suggest.ts";
import { show } from "./_values.ts";

/** Where `parseFlags` reads environment variables; `Deno.env` fits. */
export interface EnvReader {
  /** The variable's value, or undefined when it is not set. */
  get(name: string): string | undefined;
}

/** What a command line asks for: options to run with, or the help, or the version. */
export type ParsedFlags = NodeOptions | { help: true } | { version: true };

interface Spelling {
  flag: Flag;
  /** Written `--no-<name>`, which turns a switch off. */
  negated: boolean;
}

interface Given {
  flag: ValueFlag | SwitchFlag;
  /** The flag as the user wrote it, for messages. */
  typed: string;
  value: unknown;
}

const SPELLINGS: ReadonlyMap<string, Spelling> = spellingsOf(FLAGS);

// After a switch these words are surely meant as its value; taken as the command or the
// model they would make `--disable-tui false` quietly turn the TUI off.
const SWITCH_WORDS = new Set(["true", "false", "yes", "no", "on", "off", "1", "0"]);

const NUMBER_LIKE = /^-\.?\d/;

/** Each secret and the flag that reads it from a file. */
const SECRET_FILES = [
  ["clusterSecret", "clusterSecretFile"],
  ["apiKey", "apiKeyFile"],
] as const satisfies readonly (readonly [keyof NodeOptions, keyof NodeOptions])[];

/**
 * Parses an exo-style command line (`exo-node [run <model>] [flags]`, without the program
 * name). Flags take `--flag value` or `--flag=value`; each may be given once. `--help`/`-h`
 * or `--version`/`-v` anywhere wins over everything else. Flags left out come from `env`
 * where the table says so (EXO_CLUSTER_SECRET, EXO_NODE_HOME, HOME) or take their defaults.
 *
 * Files and folders come back absolute: a relative one is taken from the folder the user
 * ran the command in (see {@linkcode userDirectory}), and so is a model named by a path
 * that starts with `./` or `../`.
 *
 * @throws {FlagError} for an unknown flag or command, a missing, bad or repeated value, or
 * flags that do not go together.
 */
export function parseFlags(args: readonly string[], env: EnvReader, cwd: string): ParsedFlags {
  const action = findAction(args);
  if (action !== undefined) return action;

  const { given, positionals } = scan(args);
  const { command, model } = parseCommand(positionals);
  const values = new Map<keyof NodeOptions, unknown>();
  for (const [key, { value }] of given) values.set(key, value);
  fillFromEnvAndDefaults(values, env);
  fillDiscoveryDefaults(values);
  checkCombinations(command, given, values);
  const base = userDirectory(env, cwd);
  resolvePaths(values, base);
  const defaultModel = values.get("defaultModel");
  if (typeof defaultModel === "string") {
    values.set("defaultModel", resolveModelPath(defaultModel, base));
  }

  // Every required key either has a default in the table or is set above; the defaults test
  // compares a whole parsed object, so a new flag without its default fails there.
  const options = {
    command,
    ...(model === undefined ? {} : { model: resolveModelPath(model, base) }),
    ...Object.fromEntries(values),
  };
  return options as unknown as NodeOptions;
}

/**
 * The folder the user ran the command in: `INIT_CWD` when set (`deno task` and npm run a
 * program in the folder of their config and say there where the user was), else `cwd`.
 */
export function userDirectory(env: EnvReader, cwd: string): string {
  const initial = env.get("INIT_CWD");
  return initial !== undefined && isAbsolute(initial) ? initial : cwd;
}

function resolvePaths(values: Map<keyof NodeOptions, unknown>, base: string): void {
  for (const flag of FLAGS) {
    if (flag.kind !== "value" || flag.path === undefined) continue;
    const value = values.get(flag.key);
    if (typeof value !== "string" || value === flag.path.except) continue;
    values.set(flag.key, resolve(base, value));
  }
}

/** A model named by a relative path (`./llama`, `../models/llama`), made absolute. */
function resolveModelPath(name: string, base: string): string {
  return /^\.\.?[\\/]/.test(name) ? resolve(base, name) : name;
}

function spellingsOf(flags: readonly Flag[]): Map<string, Spelling> {
  const spellings = new Map<string, Spelling>();
  for (const flag of flags) {
    spellings.set(flag.name, { flag, negated: false });
    if (flag.kind === "action") spellings.set(flag.short, { flag, negated: false });
    if (flag.kind === "switch") {
      spellings.set(`--no-${flag.name.slice(2)}`, { flag, negated: true });
    }
  }
  return spellings;
}

function findAction(args: readonly string[]): { help: true } | { version: true } | undefined {
  for (const arg of args) {
    if (arg === "--") return undefined;
    const spelling = SPELLINGS.get(arg);
    if (spelling?.flag.kind !== "action") continue;
    return spelling.flag.action === "help" ? { help: true } : { version: true };
  }
  return undefined;
}

function isFlag(arg: string): boolean {
  return arg.startsWith("-") && arg !== "-" && !NUMBER_LIKE.test(arg);
}

function scan(args: readonly string[]): {
  given: Map<keyof NodeOptions, Given>;
  positionals: string[];
} {
  const given = new Map<keyof NodeOptions, Given>();
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!isFlag(arg)) {
      positionals.push(arg);
      continue;
    }
    const equals = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const typed = equals === -1 ? arg : arg.slice(0, equals);
    const inline = equals === -1 ? undefined : arg.slice(equals + 1);
    const spelling = SPELLINGS.get(typed);
    if (spelling === undefined) throw unknownFlag(typed);
    const { flag, negated } = spelling;
    switch (flag.kind) {
      case "action":
        // A bare --help never gets here (findAction answered it), only --help=...
        throw new FlagError(`Invalid value for ${typed}: it takes no value`, flag.name);
      case "switch": {
        const next = args[i + 1];
        if (inline !== undefined || (next !== undefined && SWITCH_WORDS.has(next.toLowerCase()))) {
          throw new FlagError(
            `Invalid value for ${typed}: a switch takes no value ` +
              `(write ${flag.name} or --no-${flag.name.slice(2)} alone)`,
            flag.name,
          );
        }
        remember(given, flag, typed, !negated);
        break;
      }
      case "value": {
        let raw = inline;
        if (raw === undefined && args[i + 1] !== undefined && !isFlag(args[i + 1])) raw = args[++i];
        if (raw === undefined || raw === "") {
          throw new FlagError(`Missing value for ${typed}`, flag.name);
        }
        remember(given, flag, typed, parseValue(flag, raw, typed));
        break;
      }
    }
  }
  return { given, positionals };
}

function remember(
  given: Map<keyof NodeOptions, Given>,
  flag: ValueFlag | SwitchFlag,
  typed: string,
  value: unknown,
): void {
  // Two values for one setting are more likely a mistake than an override, so say so.
  if (given.has(flag.key)) throw new FlagError(`Repeated flag: ${typed} (give it once)`, flag.name);
  given.set(flag.key, { flag, typed, value });
}

function unknownFlag(typed: string): FlagError {
  const reason = EXO_ONLY_FLAGS.get(typed);
  if (reason !== undefined) return new FlagError(`Unsupported flag: ${typed} (${reason})`, typed);
  const guess = closest(typed, [...SPELLINGS.keys()].filter((s) => s.startsWith("--")));
  const hint = guess === undefined ? "" : ` (did you mean ${guess}?)`;
  return new FlagError(`Unknown flag: ${typed}${hint}`, typed);
}

function parseValue(flag: ValueFlag, raw: string, source: string): unknown {
  try {
    return flag.parse(raw);
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    throw new FlagError(`Invalid value for ${source}: ${error.message}`, flag.name);
  }
}

function parseCommand(positionals: string[]): Pick<NodeOptions, "command" | "model"> {
  const [command, ...rest] = positionals;
  switch (command) {
    case undefined:
    case "serve":
      if (rest.length > 0) throw unexpected(rest[0]);
      return { command: "serve" };
    case "run":
      if (rest.length === 0 || rest[0].trim() === "") {
        throw new FlagError("Missing model for run: write exo-node run <model>", "run");
      }
      if (rest.length > 1) throw unexpected(rest[1]);
      return { command: "run", model: rest[0] };
    case "eval":
    case "train":
      throw new FlagError(`Unsupported command: ${command} (this build offers run)`, command);
    default:
      throw new FlagError(`Unknown command: ${show(command)} (expected run)`, command);
  }
}

function unexpected(arg: string): FlagError {
  return new FlagError(`Unexpected argument: ${show(arg)}`, arg);
}

function fillFromEnvAndDefaults(values: Map<keyof NodeOptions, unknown>, env: EnvReader): void {
  for (const flag of FLAGS) {
    if (flag.kind === "action" || values.has(flag.key)) continue;
    if (flag.kind === "switch") {
      values.set(flag.key, false);
      continue;
    }
    const fromEnv = flag.env === undefined ? undefined : readEnv(flag, flag.env, env);
    if (fromEnv !== undefined) values.set(flag.key, fromEnv);
    else if (flag.default !== undefined) values.set(flag.key, flag.default);
  }
  if (!values.has("stateDir")) {
    const home = env.get("HOME");
    if (home === undefined || home === "") {
      throw new FlagError(
        "Cannot choose a state directory: set --state-dir, EXO_NODE_HOME or HOME",
        "--state-dir",
      );
    }
    values.set("stateDir", join(home, ".exo-node"));
  }
}

/**
 * UDP discovery is the default when no peers file is given: two machines on one network
 * find each other with no setup, as with exo. A peers file alone keeps manual discovery,
 * so existing command lines mean what they meant. A silent peer is forgotten after 10 s
 * with udp (exo: 30); manual keeps its 30 s connection timeout.
 */
function fillDiscoveryDefaults(values: Map<keyof NodeOptions, unknown>): void {
  if (!values.has("discoveryModule")) {
    values.set("discoveryModule", values.has("discoveryConfigPath") ? "manual" : "udp");
  }
  if (!values.has("discoveryTimeout")) {
    values.set("discoveryTimeout", values.get("discoveryModule") === "udp" ? 10 : 30);
  }
}

function checkUdpTimes(
  given: Map<keyof NodeOptions, Given>,
  values: Map<keyof NodeOptions, unknown>,
): void {
  const timeout = values.get("discoveryTimeout") as number;
  const interval = values.get("broadcastInterval") as number;
  if (timeout > interval) return;
  // Blame the flag the user wrote; the timeout when both were.
  if (given.has("discoveryTimeout")) {
    throw new FlagError(
      `Invalid value for ${
        given.get("discoveryTimeout")!.typed
      }: ${timeout} s is not longer than ` +
        `--broadcast-interval ${interval} s (a peer would be forgotten between two announcements)`,
      "--discovery-timeout",
    );
  }
  throw new FlagError(
    `Invalid value for ${
      given.get("broadcastInterval")!.typed
    }: ${interval} s is not shorter than ` +
      `--discovery-timeout ${timeout} s (a peer would be forgotten between two announcements)`,
    "--broadcast-interval",
  );
}

function readEnv(flag: ValueFlag, name: string, env: EnvReader): unknown {
  const raw = env.get(name);
  // An empty variable is more likely a broken script than a wish for no value.
  if (raw === "") {
    throw new FlagError(`Invalid value for ${name}: empty (unset it or give a value)`, flag.name);
  }
  return raw === undefined ? undefined : parseValue(flag, raw, name);
}

function checkCombinations(
  command: NodeOptions["command"],
  given: Map<keyof NodeOptions, Given>,
  values: Map<keyof NodeOptions, unknown>,
): void {
  for (const { flag, typed } of given.values()) {
    if (flag.kind === "value" && flag.only !== undefined && flag.only !== command) {
      throw new FlagError(
        `${typed} only applies to ${flag.only}: write exo-node ${flag.only} <model> ${typed} ...`,
        flag.name,
      );
    }
  }
  const module = values.get("discoveryModule");
  if (command === "serve") {
    if (module === "manual" && !values.has("discoveryConfigPath")) {
      throw new FlagError(
        "--discovery-module manual needs --discovery-config-path (or use --discovery-module udp)",
        "--discovery-config-path",
      );
    }
    for (const { flag, typed } of given.values()) {
      if (
        flag.kind === "value" && flag.onlyDiscovery !== undefined && flag.onlyDiscovery !== module
      ) {
        throw new FlagError(
          `${typed} only applies to --discovery-module ${flag.onlyDiscovery} (this node uses ${module})`,
          flag.name,
        );
      }
    }
    if (module === "udp") checkUdpTimes(given, values);
  }
  for (const [secret, file] of SECRET_FILES) {
    const flag = given.get(secret);
    if (flag !== undefined && given.has(file)) {
      throw new FlagError(
        `${flag.typed} and ${given.get(file)!.typed} give the same secret twice (give one)`,
        flag.flag.name,
      );
    }
  }
  const nodePort = values.get("nodePort");
  if (nodePort !== 0 && nodePort === values.get("chatgptApiPort")) {
    throw new FlagError(
      `Invalid value for --chatgpt-api-port: ${nodePort} is already the --node-port`,
      "--chatgpt-api-port",
    );
  }
}
