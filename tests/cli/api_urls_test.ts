import { deepStrictEqual } from "node:assert/strict";
import { apiUrls } from "../../lib/cli/mod.ts";

function v4(address: string) {
  return { family: "IPv4" as const, address };
}

Deno.test("apiUrls puts localhost first, then up to two LAN IPv4 addresses", () => {
  const addresses = [
    v4("127.0.0.1"),
    v4("192.168.1.20"),
    { family: "IPv6" as const, address: "fe80::1" },
    v4("192.168.1.20"),
    v4("169.254.3.4"),
    v4("10.0.0.7"),
    v4("172.17.0.1"),
  ];
  deepStrictEqual(apiUrls(52415, addresses), [
    "http://localhost:52415",
    "http://192.168.1.20:52415",
    "http://10.0.0.7:52415",
  ]);
});

Deno.test("apiUrls gives localhost alone on a machine without a LAN address", () => {
  deepStrictEqual(apiUrls(8000, [v4("127.0.0.1"), v4("0.0.0.0")]), ["http://localhost:8000"]);
});
