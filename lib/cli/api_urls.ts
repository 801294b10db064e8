/** Most LAN addresses shown besides localhost: more would not fit on one line. */
const MAX_LAN_URLS = 2;

/**
 * The addresses a person can click to reach the HTTP API: `http://localhost:<port>` first,
 * then up to two of this machine's IPv4 addresses for other machines (never `0.0.0.0`,
 * loopback or link-local), in the order `addresses` lists them.
 */
export function apiUrls(
  port: number,
  addresses: readonly Pick<Deno.NetworkInterfaceInfo, "family" | "address">[],
): string[] {
  const lan = addresses
    .filter((i) => i.family === "IPv4")
    .map((i) => i.address)
    .filter((address) => !/^(127\.|169\.254\.|0\.)/.test(address));
  const hosts = ["localhost", ...[...new Set(lan)].slice(0, MAX_LAN_URLS)];
  return hosts.map((host) => `http://${host}:${port}`);
}
