/**
 * Readers for the example service files in docs/service: the systemd unit's [Service]
 * settings and a launchd property list, enough to start what they describe as the service
 * manager would.
 * @module
 */

/** A unit file's [Service] section: each key with its values in order (Environment repeats). */
export function serviceSection(unit: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = "";
  for (const raw of unit.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      section = line;
      continue;
    }
    if (section !== "[Service]") continue;
    const equals = line.indexOf("=");
    const key = line.slice(0, equals);
    settings.set(key, [...settings.get(key) ?? [], line.slice(equals + 1)]);
  }
  return settings;
}

/** The one value of `key` in a [Service] section; throws when it is missing or repeated. */
export function single(settings: Map<string, string[]>, key: string): string {
  const values = settings.get(key) ?? [];
  if (values.length !== 1) throw new Error(`Expected one ${key}=, found ${values.length}`);
  return values[0];
}

/** A property list value. */
export type Plist = string | number | boolean | Plist[] | { [key: string]: Plist };

/** Parses the XML property list format (dict, array, key, string, integer, true, false). */
export function parsePlist(xml: string): Plist {
  const body = xml.replace(/<\?xml[^>]*\?>|<!DOCTYPE[^>]*>|<!--[\s\S]*?-->/g, "");
  const tokens = [...body.matchAll(/<(\/?)(\w+)(?:\s[^>]*?)?(\/?)>|([^<]+)/g)]
    .filter((m) => m[4] === undefined || m[4].trim() !== "");
  let at = 0;
  const next = () => tokens[at++];
  const expectClose = (tag: string) => {
    const token = next();
    if (token?.[1] !== "/" || token[2] !== tag) throw new SyntaxError(`Expected </${tag}>`);
  };
  const text = (tag: string): string => {
    const token = tokens[at];
    const value = token?.[4] === undefined ? "" : (at++, token[4]);
    expectClose(tag);
    return value.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
  };
  const value = (): Plist => {
    const token = next();
    if (token === undefined || token[4] !== undefined) throw new SyntaxError("Expected a tag");
    const [, , tag, selfClosing] = token;
    if (selfClosing) return tag === "true";
    switch (tag) {
      case "plist": {
        const inner = value();
        expectClose("plist");
        return inner;
      }
      case "string":
        return text("string");
      case "integer":
        return Number(text("integer"));
      case "array": {
        const items: Plist[] = [];
        while (tokens[at]?.[1] !== "/") items.push(value());
        expectClose("array");
        return items;
      }
      case "dict": {
        const entries: { [key: string]: Plist } = {};
        while (tokens[at]?.[1] !== "/") {
          const key = next();
          if (key?.[2] !== "key") throw new SyntaxError("Expected <key> in <dict>");
          const name = text("key");
          entries[name] = value();
        }
        expectClose("dict");
        return entries;
      }
      default:
        throw new SyntaxError(`Unknown tag <${tag}>`);
    }
  };
  const root = value();
  if (at !== tokens.length) throw new SyntaxError("Text after the root value");
  return root;
}
