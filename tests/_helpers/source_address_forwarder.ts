import { connect, type Socket } from "node:net";

/**
 * A TCP forwarder on loopback whose connections to the target come from a chosen loopback
 * address (127.0.0.5, say), so the target sees each one as a peer on another host.
 * `Deno.connect` cannot choose its source address; `node:net` can. `close` ends every
 * forwarded connection and waits for them.
 */
export class SourceAddressForwarder {
  #listener: Deno.TcpListener;
  #inbound = new Set<Deno.Conn>();
  #outbound = new Set<Socket>();
  #tasks = new Set<Promise<void>>();
  #accepting: Promise<void>;

  /** Starts forwarding from a free loopback port to 127.0.0.1:`targetPort`, from `sourceHost`. */
  constructor(targetPort: number, sourceHost: string) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept(targetPort, sourceHost);
  }

  /** The port clients connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Stops forwarding and closes every connection. */
  async close(): Promise<void> {
    this.#listener.close();
    for (const conn of this.#inbound) closeQuietly(conn);
    for (const socket of this.#outbound) socket.destroy();
    await this.#accepting;
    await Promise.allSettled([...this.#tasks]);
  }

  async #accept(targetPort: number, sourceHost: string): Promise<void> {
    try {
      for await (const inbound of this.#listener) {
        const task = this.#forward(inbound, targetPort, sourceHost);
        this.#tasks.add(task);
        task.finally(() => this.#tasks.delete(task));
      }
    } catch {
      // The listener was closed.
    }
  }

  async #forward(inbound: Deno.Conn, targetPort: number, sourceHost: string): Promise<void> {
    this.#inbound.add(inbound);
    const outbound = connect({ host: "127.0.0.1", port: targetPort, localAddress: sourceHost });
    this.#outbound.add(outbound);
    const closed = new Promise<void>((resolve) => outbound.once("close", () => resolve()));
    // Whatever the target sends goes back; its end ends the client's connection.
    outbound.on("data", (chunk: Uint8Array) => {
      outbound.pause();
      writeAll(inbound, chunk).then(() => outbound.resume(), () => outbound.destroy());
    });
    outbound.on("error", () => {});
    outbound.once("close", () => closeQuietly(inbound));
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await inbound.read(buffer);
        if (n === null) break;
        const chunk = buffer.slice(0, n);
        await new Promise<void>((resolve) => outbound.write(chunk, () => resolve()));
      }
    } catch {
      // The client went away, or the target did and closed it.
    }
    outbound.destroy();
    closeQuietly(inbound);
    await closed;
    this.#inbound.delete(inbound);
    this.#outbound.delete(outbound);
  }
}

async function writeAll(conn: Deno.Conn, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.length) offset += await conn.write(chunk.subarray(offset));
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}
