import { hostNameOf } from "./_host_names.ts";

/**
 * The names a browser may use to reach this machine, for `AccessRules.ownHosts`: its host
 * name, that name plus `.local` (mDNS) when it has no dot, and every interface address.
 * Entries that are no valid host (a host name with spaces) are left out: no browser can
 * send them. main.ts passes `Deno.hostname()` and `Deno.networkInterfaces()` addresses.
 */
export function ownHostNames(hostname: string, addresses: readonly string[]): string[] {
  const names = [hostname, ...hostname.includes(".") ? [] : [`${hostname}.local`], ...addresses];
  const valid = names.map(hostNameOf).filter((name): name is string => name !== null);
  return [...new Set(valid)];
}
