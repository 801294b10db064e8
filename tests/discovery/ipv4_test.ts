import { deepStrictEqual, equal } from "node:assert/strict";
import {
  broadcastAddress,
  formatIpv4,
  inSubnet,
  isLoopbackIpv4,
  parseIpv4,
  prefixLength,
} from "../../lib/discovery/ipv4.ts";

Deno.test("broadcastAddress computes a /24 subnet's broadcast from its netmask", () => {
  equal(broadcastAddress("192.168.1.20", "255.255.255.0"), "192.168.1.255");
});

Deno.test("broadcastAddress computes a /16 subnet's broadcast, not exo's /24 guess", () => {
  equal(broadcastAddress("10.1.2.3", "255.255.0.0"), "10.1.255.255");
  // macOS's self-assigned Thunderbolt bridge addresses are link-local /16.
  equal(broadcastAddress("169.254.17.9", "255.255.0.0"), "169.254.255.255");
});

Deno.test("broadcastAddress computes a /30 link's broadcast", () => {
  equal(broadcastAddress("10.0.0.5", "255.255.255.252"), "10.0.0.7");
  equal(broadcastAddress("10.0.0.6", "255.255.255.252"), "10.0.0.7");
});

Deno.test("broadcastAddress handles odd prefixes: /8, /22 and /29", () => {
  equal(broadcastAddress("10.200.3.4", "255.0.0.0"), "10.255.255.255");
  equal(broadcastAddress("172.16.5.1", "255.255.252.0"), "172.16.7.255");
  equal(broadcastAddress("192.168.0.9", "255.255.255.248"), "192.168.0.15");
});

Deno.test("broadcastAddress gives none for point-to-point links (/32 and /31)", () => {
  // utun, ppp and WireGuard interfaces carry a /32 and a peer address, no broadcast.
  equal(broadcastAddress("100.101.102.103", "255.255.255.255"), null);
  equal(broadcastAddress("10.9.0.0", "255.255.255.254"), null);
});

Deno.test("broadcastAddress gives none for bad input and non-contiguous masks", () => {
  equal(broadcastAddress("192.168.1.20", "255.0.255.0"), null);
  equal(broadcastAddress("192.168.1.20", "0.0.0.0"), null);
  equal(broadcastAddress("fe80::1", "ffff:ffff:ffff:ffff::"), null);
  equal(broadcastAddress("192.168.1", "255.255.255.0"), null);
  equal(broadcastAddress("192.168.1.20", "garbage"), null);
});

Deno.test("parseIpv4 accepts dotted quads only, without leading zeros", () => {
  equal(parseIpv4("0.0.0.0"), 0);
  equal(parseIpv4("255.255.255.255"), 0xffff_ffff);
  equal(parseIpv4("192.168.1.20"), 0xc0a8_0114);
  for (
    const bad of [
      "256.0.0.1",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      " 1.2.3.4",
      "1.2.3.-4",
      "",
      "a.b.c.d",
    ]
  ) {
    equal(parseIpv4(bad), null, bad);
  }
});

Deno.test("formatIpv4 writes what parseIpv4 reads", () => {
  for (const text of ["0.0.0.0", "10.0.0.1", "192.168.255.7", "255.255.255.255"]) {
    equal(formatIpv4(parseIpv4(text)!), text);
  }
});

Deno.test("prefixLength reads contiguous netmasks and refuses the rest", () => {
  deepStrictEqual(
    ["0.0.0.0", "255.0.0.0", "255.255.0.0", "255.255.255.252", "255.255.255.255"].map(prefixLength),
    [0, 8, 16, 30, 32],
  );
  equal(prefixLength("255.255.0.255"), null);
  equal(prefixLength("0.255.255.255"), null);
});

Deno.test("inSubnet tells addresses on a link from those off it", () => {
  equal(inSubnet("192.168.1.77", "192.168.1.20", "255.255.255.0"), true);
  equal(inSubnet("192.168.2.77", "192.168.1.20", "255.255.255.0"), false);
  equal(inSubnet("10.0.0.6", "10.0.0.5", "255.255.255.252"), true);
  equal(inSubnet("10.0.0.8", "10.0.0.5", "255.255.255.252"), false);
  equal(inSubnet("not an address", "10.0.0.5", "255.255.255.252"), false);
});

Deno.test("isLoopbackIpv4 covers all of 127.0.0.0/8", () => {
  deepStrictEqual(
    ["127.0.0.1", "127.9.9.9", "128.0.0.1", "::1"].map(isLoopbackIpv4),
    [true, true, false, false],
  );
});
