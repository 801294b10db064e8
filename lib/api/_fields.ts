import { ApiError } from "./api_error.ts";

/** A JSON object as parsed from a request body. */
export type JsonObject = Record<string, unknown>;

/** A 400 naming the field at fault. */
export function invalidField(param: string, detail: string): ApiError {
  return new ApiError(400, `Invalid ${param}: ${detail}`, { param });
}

/** Whether a value is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A field's value, with null read as absent, as OpenAI reads it. */
export function fieldOf(body: JsonObject, name: string): unknown {
  const value = body[name];
  return value === null ? undefined : value;
}

/** A short description of a value for error messages: `"hot"`, `3`, `an array`. */
export function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    const json = JSON.stringify(value);
    return json.length > 40 ? `${json.slice(0, 37)}..."` : json;
  }
  return String(value);
}

/**
 * Refuses the fields OpenAI would not recognize, with OpenAI's message.
 * @param prefix Put before each field's name, e.g. "stream_options.".
 */
export function rejectUnknownFields(
  body: JsonObject,
  known: ReadonlySet<string>,
  prefix = "",
): void {
  for (const key of Object.keys(body)) {
    if (!known.has(key)) {
      throw new ApiError(400, `Unrecognized request argument supplied: ${prefix}${key}`, {
        param: `${prefix}${key}`,
      });
    }
  }
}

/** A field that must be a boolean when present. */
export function optionalBoolean(body: JsonObject, name: string, path = name): boolean | undefined {
  const value = fieldOf(body, name);
  if (value !== undefined && typeof value !== "boolean") {
    throw invalidField(path, `must be a boolean, got ${describe(value)}`);
  }
  return value;
}

/** A field that must be a finite number within [min, max] when present. */
export function optionalNumber(
  body: JsonObject,
  name: string,
  range: { min: number; max: number; minExclusive?: boolean },
): number | undefined {
  const value = fieldOf(body, name);
  if (value === undefined) return undefined;
  const lower = range.minExclusive ? `above ${range.min}` : `from ${range.min}`;
  const expected = `must be a number ${lower} to ${range.max}`;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw invalidField(name, `${expected}, got ${describe(value)}`);
  }
  const belowMin = range.minExclusive ? value <= range.min : value < range.min;
  if (belowMin || value > range.max) throw invalidField(name, `${expected}, got ${value}`);
  return value;
}

/**
 * Accepts a field OpenAI knows but this server does not implement only at the value that
 * leaves the output unchanged (e.g. `frequency_penalty: 0`).
 */
export function requireNeutral(
  body: JsonObject,
  name: string,
  isNeutral: (value: unknown) => boolean,
  neutral: string,
): void {
  const value = fieldOf(body, name);
  if (value !== undefined && !isNeutral(value)) {
    throw new ApiError(
      400,
      `Unsupported ${name}: this server supports only ${neutral}, got ${describe(value)}`,
      { param: name, code: "unsupported_parameter" },
    );
  }
}
