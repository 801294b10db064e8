/**
 * A command line that cannot be used: an unknown flag, a missing or bad value, or flags that
 * do not go together. The message is one line meant for the user; callers print it and exit
 * with status 2.
 */
export class FlagError extends Error {
  override name = "FlagError";
  /**
   * The flag at fault in its canonical spelling (e.g. "--node-port"), or the command-line
   * word itself when no flag is involved (an unknown command, a stray argument).
   */
  readonly flag: string;

  /** Creates an error about `flag`. */
  constructor(message: string, flag: string) {
    super(message);
    this.flag = flag;
  }
}
