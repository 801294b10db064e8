/** Log levels, from most to least verbose. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** All log levels, in order of increasing severity. */
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/**
 * Where log lines go; tests pass a collecting sink. It gets the whole line (time, level,
 * scope, message), the level, and the message with its scope ("[device] ...").
 */
export type LogSink = (line: string, level: LogLevel, message: string) => void;

/** A small leveled logger that writes one line per event to a sink (stderr by default). */
export class Logger {
  #threshold: number;
  #sink: LogSink;
  #scope: string;

  /** Creates a logger that drops events below `level`. */
  constructor(level: LogLevel = "info", sink: LogSink = writeStderr, scope = "") {
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#sink = sink;
    this.#scope = scope;
  }

  /** Returns a logger with the same level and sink whose lines carry `scope`. */
  child(scope: string): Logger {
    const child = new Logger("info", this.#sink, this.#scope ? `${this.#scope}/${scope}` : scope);
    child.#threshold = this.#threshold;
    return child;
  }

  /** Logs at debug level. */
  debug(message: string): void {
    this.#log(0, "debug", message);
  }

  /** Logs at info level. */
  info(message: string): void {
    this.#log(1, "info", message);
  }

  /** Logs at warn level. */
  warn(message: string): void {
    this.#log(2, "warn", message);
  }

  /** Logs at error level. */
  error(message: string): void {
    this.#log(3, "error", message);
  }

  #log(rank: number, level: LogLevel, message: string): void {
    if (rank < this.#threshold) return;
    const scope = this.#scope ? `[${this.#scope}] ` : "";
    this.#sink(
      `${new Date().toISOString()} ${level.toUpperCase()} ${scope}${message}`,
      level,
      scope + message,
    );
  }
}

const encoder = new TextEncoder();

function writeStderr(line: string): void {
  Deno.stderr.writeSync(encoder.encode(line + "\n"));
}

/** A logger that discards everything, for tests that do not look at logs. */
export const silentLogger: Logger = new Logger("error", () => {});
