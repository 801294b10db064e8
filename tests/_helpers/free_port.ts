/** Lowest port handed out: clear of well-known services. */
const LOW = 20000;
const handedOut = new Set<number>();

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago, below the range the OS picks
 * outgoing connections' local ports from. A port the OS chose for a listener (port 0) lies
 * inside that range, so between the pick and the node's bind a peer dialing out could take
 * it ("Address already in use"); a port below the range only collides with another
 * listener. Never the same port twice in one process.
 */
export function freePort(): number {
  const high = ephemeralLow() - 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = LOW + Math.floor(Math.random() * (high - LOW + 1));
    if (handedOut.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) continue;
      throw error;
    }
    handedOut.add(port);
    return port;
  }
  throw new Error(`No free port found between ${LOW} and ${high} after 200 tries`);
}

/** The lowest port of the OS's range for outgoing connections. */
function ephemeralLow(): number {
  if (Deno.build.os === "linux") {
    try {
      const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range")
        .trim().split(/\s+/).map(Number);
      if (Number.isInteger(low) && low > LOW + 1000) return low;
    } catch {
      // Not readable here: fall back to the IANA range below.
    }
  }
  return 49152; // macOS and the IANA default
}
