import { join } from "node:path";
import { isValidNodeId, NODE_ID_RULE } from "./node_id.ts";
import type { NodeOptions } from "./node_options.ts";
import { show } from "./_values.ts";

/** The file in the state directory that keeps this node's id across restarts. */
export const NODE_ID_FILE = "node_id";

/**
 * This node's id: `--node-id` when given; else the one saved in `<stateDir>/node_id`; else a
 * new random UUID, saved there (creating the directory) so the next start reuses it.
 *
 * @throws {TypeError} when `options.nodeId` is not a valid node id.
 * @throws {Error} when the file cannot be read or written, or holds something that is not a
 * valid node id (the message names the file).
 */
export async function resolveNodeId(
  options: Pick<NodeOptions, "nodeId" | "stateDir">,
): Promise<string> {
  if (options.nodeId !== undefined) {
    if (!isValidNodeId(options.nodeId)) {
      throw new TypeError(
        `Cannot use node id ${show(options.nodeId)}: it is not valid (${NODE_ID_RULE})`,
      );
    }
    return options.nodeId;
  }
  const path = join(options.stateDir, NODE_ID_FILE);
  return await readNodeId(path) ?? await createNodeId(options.stateDir, path);
}

async function readNodeId(path: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`Cannot read node id file ${path}: ${messageOf(error)}`, { cause: error });
  }
  const id = text.trim();
  if (!isValidNodeId(id)) {
    throw new Error(
      `Cannot use node id file ${path}: ${show(id)} is not a valid node id ` +
        `(${NODE_ID_RULE}); fix or delete the file`,
    );
  }
  return id;
}

async function createNodeId(dir: string, path: string): Promise<string> {
  const id = crypto.randomUUID();
  const temp = `${path}.${id}.tmp`;
  try {
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(temp, `${id}\n`);
  } catch (error) {
    throw new Error(`Cannot write node id file ${path}: ${messageOf(error)}`, { cause: error });
  }
  try {
    // A hard link publishes the whole file at once, like rename, but refuses to replace one:
    // when two processes start together on one state directory, both return the id that won.
    await Deno.link(temp, path);
    return id;
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) {
      throw new Error(`Cannot write node id file ${path}: ${messageOf(error)}`, { cause: error });
    }
    const winner = await readNodeId(path);
    if (winner === undefined) throw new Error(`Cannot read node id file ${path}: it vanished`);
    return winner;
  } finally {
    await Deno.remove(temp);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
