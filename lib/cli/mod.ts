/**
 * The command line: exo-compatible flags parsed into {@linkcode NodeOptions}, the help text,
 * the version, and the node id kept in the state directory.
 *
 * ```ts
 * const parsed = parseFlags(Deno.args, Deno.env, Deno.cwd());
 * if ("help" in parsed) console.log(helpText());
 * ```
 * @module
 */
export * from "./api_urls.ts";
export * from "./flag_error.ts";
export * from "./help_text.ts";
export * from "./node_id.ts";
export * from "./node_options.ts";
export * from "./parse_flags.ts";
export * from "./resolve_node_id.ts";
export * from "./secret_files.ts";
export * from "./version.ts";
