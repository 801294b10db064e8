import { fail } from "node:assert/strict";
import {
  type EnvReader,
  FlagError,
  type NodeOptions,
  type ParsedFlags,
  parseFlags,
} from "../../lib/cli/mod.ts";

/** An environment with only HOME set. */
export const HOME = { HOME: "/home/ada" };
/** The folder the parsed commands are run in. */
export const CWD = "/home/ada/work";
/** The flag serving needs, so other cases show only their own problem. */
export const PEERS = ["--discovery-config-path", "peers.json"];

/** An `EnvReader` over `vars`. */
export function envOf(vars: Record<string, string> = HOME): EnvReader {
  const map = new Map(Object.entries(vars));
  return { get: (name: string) => map.get(name) };
}

/** Parses `args`, failing unless the result is options. */
export function options(args: string[], vars?: Record<string, string>): NodeOptions {
  const parsed: ParsedFlags = parseFlags(args, envOf(vars), CWD);
  if ("help" in parsed || "version" in parsed) {
    fail(`expected options, got ${JSON.stringify(parsed)}`);
  }
  return parsed;
}

/** The FlagError `args` raise, failing when they parse. */
export function errorOf(
  args: string[],
  vars?: Record<string, string>,
): { message: string; flag: string } {
  try {
    parseFlags(args, envOf(vars), CWD);
  } catch (error) {
    if (error instanceof FlagError) return { message: error.message, flag: error.flag };
    throw error;
  }
  fail(`parseFlags accepted ${JSON.stringify(args)}`);
}
