// deno-lint-ignore-file no-console -- prints a usage error for a script
/**
 * Runs a script's argument parsing; a bad argument prints one line and the usage, then exits
 * with status 2 instead of a stack trace.
 */
export function parseOrExit<T>(script: string, usage: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    console.error(`${script}: ${error.message}\n${usage}`);
    Deno.exit(2);
  }
}
