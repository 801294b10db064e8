import { equal, ok, throws } from "node:assert/strict";
import { AccessPolicy } from "../../lib/api/access_policy.ts";

const OWN = ["mac1", "mac1.local", "192.168.1.20", "fe80::1c2:3ff:fe04:506"];

Deno.test("AccessPolicy accepts loopback hosts on any port and no others by default", () => {
  const policy = new AccessPolicy();
  for (
    const host of [
      "localhost",
      "LOCALHOST:52415",
      "localhost.:80",
      "app.localhost:3000",
      "127.0.0.1",
      "127.0.0.1:52415",
      "127.8.9.10:1",
      "[::1]",
      "[::1]:52415",
      "[0:0:0:0:0:0:0:1]:8080",
    ]
  ) ok(policy.allowsHost(host), host);
  for (
    const host of [
      "evil.example",
      "evil.example:52415",
      "localhost.evil.example",
      "127.0.0.1.nip.io",
      "128.0.0.1",
      "mac1",
      "::1",
      "",
      "local host",
      "evil.example/@localhost",
    ]
  ) ok(!policy.allowsHost(host), host);
});

Deno.test("AccessPolicy accepts this machine's names and addresses as hosts, in any case", () => {
  const policy = new AccessPolicy({ ownHosts: OWN });
  for (
    const host of [
      "mac1:52415",
      "MAC1.local:52415",
      "mac1.local.",
      "192.168.1.20:52415",
      "[fe80::1c2:3ff:fe04:506]:52415",
      "[FE80:0::1C2:3FF:FE04:506]",
    ]
  ) ok(policy.allowsHost(host), host);
  ok(!policy.allowsHost("192.168.1.21:52415"));
  ok(!policy.allowsHost("mac2.local"));
});

Deno.test("AccessPolicy accepts listed hosts, and any host for *", () => {
  const listed = new AccessPolicy({ hosts: ["exo.example.com", "10.0.0.5", "::2"] });
  ok(listed.allowsHost("exo.example.com:443"));
  ok(listed.allowsHost("Exo.Example.Com"));
  ok(listed.allowsHost("10.0.0.5:52415"));
  ok(listed.allowsHost("[::2]:52415"));
  ok(!listed.allowsHost("sub.exo.example.com"));
  const any = new AccessPolicy({ hosts: ["*"] });
  ok(any.allowsHost("anything.example:1"));
});

Deno.test("AccessPolicy accepts the page's own origin, by http or https", () => {
  const policy = new AccessPolicy({ ownHosts: OWN });
  ok(policy.allowsOrigin("http://mac1.local:52415", "mac1.local:52415"));
  ok(policy.allowsOrigin("https://mac1.local:52415", "mac1.local:52415"));
  ok(policy.allowsOrigin("http://MAC1.local:52415", "mac1.LOCAL:52415"));
  ok(policy.allowsOrigin("http://192.168.1.20", "192.168.1.20:80"));
  ok(!policy.allowsOrigin("http://mac1.local:3000", "mac1.local:52415"));
  ok(!policy.allowsOrigin("http://mac1.local", "mac1.local:52415"));
});

Deno.test("AccessPolicy accepts loopback origins on any port and refuses other sites", () => {
  const policy = new AccessPolicy();
  for (
    const origin of [
      "http://localhost:5173",
      "https://localhost",
      "http://127.0.0.1:8080",
      "http://127.0.0.2:1",
      "http://[::1]:3000",
      "http://app.localhost:3000",
    ]
  ) ok(policy.allowsOrigin(origin, "localhost:52415"), origin);
  for (
    const origin of [
      "http://evil.example",
      "https://evil.example:52415",
      "http://localhost.evil.example",
      "null",
      "file://",
      "chrome-extension://abcdef",
      "http://localhost:5173/path",
      "",
    ]
  ) ok(!policy.allowsOrigin(origin, "localhost:52415"), origin);
});

Deno.test("AccessPolicy accepts listed origins exactly, and any origin for *", () => {
  const listed = new AccessPolicy({ origins: ["http://ui.example:3000", "https://chat.example/"] });
  ok(listed.allowsOrigin("http://ui.example:3000", "localhost"));
  ok(listed.allowsOrigin("http://UI.example:3000", "localhost"));
  ok(listed.allowsOrigin("https://chat.example", "localhost"));
  ok(listed.allowsOrigin("https://chat.example:443", "localhost"));
  ok(!listed.allowsOrigin("http://ui.example", "localhost"));
  ok(!listed.allowsOrigin("https://ui.example:3000", "localhost"));
  ok(!listed.allowsOrigin("http://chat.example", "localhost"));
  equal(listed.anyOrigin, false);
  const any = new AccessPolicy({ origins: ["*"] });
  ok(any.allowsOrigin("http://evil.example", "localhost"));
  ok(any.allowsOrigin("null", "localhost"));
  equal(any.anyOrigin, true);
});

Deno.test("AccessPolicy refuses a listed host or origin that is not one", () => {
  throws(
    () => new AccessPolicy({ hosts: ["http://mac1"] }),
    /^TypeError: Cannot build the access policy: "http:\/\/mac1" is not a host$/,
  );
  throws(
    () => new AccessPolicy({ origins: ["mac1.local:3000"] }),
    /^TypeError: Cannot build the access policy: "mac1.local:3000" is not an http\(s\) origin$/,
  );
});
