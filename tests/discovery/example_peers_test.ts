import { deepStrictEqual, strictEqual } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { formatAddress, parsePeersFile } from "../../lib/discovery/peers_file.ts";

const PEERS_DIR = fileURLToPath(new URL("../../peers/", import.meta.url));

async function jsonFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...await jsonFiles(path));
    else if (entry.name.endsWith(".json")) files.push(path);
  }
  return files.sort();
}

async function endpoints(relative: string, selfId: string): Promise<string[]> {
  const path = join(PEERS_DIR, relative);
  return parsePeersFile(await Deno.readTextFile(path), path, selfId)
    .map((peer) => `${peer.id}=${formatAddress(peer.host, peer.port)}`);
}

Deno.test("every example peers file parses", async () => {
  const files = await jsonFiles(PEERS_DIR);
  strictEqual(files.length >= 5, true, `found only ${files.join(", ")}`);
  for (const path of files) {
    const peers = parsePeersFile(await Deno.readTextFile(path), path);
    strictEqual(peers.length > 0, true, path);
  }
});

Deno.test("mac1 reaches mac2 through the SSH tunnel on local port 50052", async () => {
  deepStrictEqual(await endpoints("mac1_peers.json", "mac1"), ["mac2=127.0.0.1:50052"]);
  const [mac2] = parsePeersFile(await Deno.readTextFile(join(PEERS_DIR, "mac1_peers.json")), "x");
  strictEqual(mac2.capabilities.chip, "Apple M2");
  strictEqual(mac2.capabilitiesKnown, true);
});

Deno.test("mac2 reaches mac1 directly on the LAN", async () => {
  deepStrictEqual(await endpoints("mac2_peers.json", "mac2"), ["mac1=192.168.2.2:50060"]);
});

Deno.test("each loopback node lists the other two on 127.0.0.1", async () => {
  deepStrictEqual(await endpoints("loopback/node1.json", "node1"), [
    "node2=127.0.0.1:50062",
    "node3=127.0.0.1:50063",
  ]);
  deepStrictEqual(await endpoints("loopback/node2.json", "node2"), [
    "node1=127.0.0.1:50061",
    "node3=127.0.0.1:50063",
  ]);
  deepStrictEqual(await endpoints("loopback/node3.json", "node3"), [
    "node1=127.0.0.1:50061",
    "node2=127.0.0.1:50062",
  ]);
});
