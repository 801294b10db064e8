import type { AccessRules } from "./access_policy.ts";

/**
 * One line for the start-up log: which origins and hosts the API accepts beyond the
 * defaults (its own page and loopback; loopback and this machine's names), and whether a
 * key is required. Never shows the key.
 */
export function accessSummary(rules: AccessRules): string {
  const origins = listed(rules.origins, "its own page, loopback", "--api-origins");
  const hosts = listed(rules.hosts, "loopback, this machine's names", "--api-hosts");
  const key = rules.apiKey === undefined
    ? "none (set one with EXO_API_KEY or --api-key-file)"
    : "required";
  return `HTTP API accepts origins: ${origins}; hosts: ${hosts}; API key: ${key}`;
}

function listed(extra: readonly string[] | undefined, defaults: string, flag: string): string {
  if (extra?.includes("*")) return `any (${flag} *)`;
  if (extra === undefined || extra.length === 0) return `${defaults} (widen with ${flag})`;
  return `${defaults}, ${extra.join(", ")}`;
}
