/**
 * A one-way TCP forwarder on loopback, standing in for `ssh -L`: connections to its port
 * are piped to the target. `close` ends every piped connection and waits for them.
 */
export class TcpForwarder {
  #listener: Deno.TcpListener;
  #conns = new Set<Deno.Conn>();
  #tasks = new Set<Promise<void>>();
  #accepting: Promise<void>;

  /** Starts forwarding from a free loopback port to `targetPort`. */
  constructor(targetPort: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept(targetPort);
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Stops forwarding and closes every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const conn of this.#conns) closeQuietly(conn);
    await this.#accepting;
    await Promise.allSettled([...this.#tasks]);
  }

  async #accept(targetPort: number): Promise<void> {
    try {
      for await (const inbound of this.#listener) {
        const task = this.#forward(inbound, targetPort);
        this.#tasks.add(task);
        task.finally(() => this.#tasks.delete(task));
      }
    } catch {
      // The listener was closed.
    }
  }

  async #forward(inbound: Deno.Conn, targetPort: number): Promise<void> {
    this.#conns.add(inbound);
    let outbound: Deno.Conn;
    try {
      outbound = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
    } catch {
      closeQuietly(inbound);
      this.#conns.delete(inbound);
      return;
    }
    this.#conns.add(outbound);
    const pipe = async (from: Deno.Conn, to: Deno.Conn) => {
      const buffer = new Uint8Array(64 * 1024);
      try {
        while (true) {
          const n = await from.read(buffer);
          if (n === null) break;
          let offset = 0;
          while (offset < n) offset += await to.write(buffer.subarray(offset, n));
        }
      } catch {
        // Either side went away; closing both below ends the other pipe.
      }
      closeQuietly(from);
      closeQuietly(to);
    };
    await Promise.all([pipe(inbound, outbound), pipe(outbound, inbound)]);
    this.#conns.delete(inbound);
    this.#conns.delete(outbound);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
