/** A contiguous run of layers held by one node; both ends inclusive. */
export interface ShardRange {
  nodeId: string;
  startLayer: number;
  endLayer: number;
}

/** A node as the partitioner sees it: its id and its memory (MB, any unit works). */
export interface PartitionNode {
  nodeId: string;
  memory: number;
}

/**
 * Splits layers `0..numLayers-1` over `nodes` in proportion to their memory, like exo's
 * ring memory-weighted strategy.
 *
 * Nodes are ordered by memory, then id, both descending, so every node computes the same
 * plan from the same cluster whatever order it learned the nodes in. Node `i` gets the
 * layers between the rounded cumulative shares before and after it. A node whose share
 * rounds to no layer is left out. When every memory is zero (all unknown) the split is
 * equal.
 *
 * @throws {RangeError} when `numLayers` is not a positive integer, `nodes` is empty, or a
 * memory is negative, NaN or infinite.
 * @throws {TypeError} when a node id is not a string or appears twice.
 */
export function partitionLayers(
  nodes: readonly PartitionNode[],
  numLayers: number,
): ShardRange[] {
  if (!Number.isSafeInteger(numLayers) || numLayers < 1) {
    throw new RangeError(
      `Cannot partition layers: numLayers ${numLayers} is not a positive integer`,
    );
  }
  if (nodes.length === 0) {
    throw new RangeError("Cannot partition layers: no nodes");
  }
  validateNodes(nodes);

  const ordered = [...nodes].sort(byMemoryThenIdDescending);
  const allUnknown = ordered.every((node) => node.memory === 0);
  const weights = ordered.map((node) => allUnknown ? 1 : node.memory);
  const total = weights.reduce((sum, weight) => sum + weight, 0);

  const ranges: ShardRange[] = [];
  let cumulative = 0;
  let start = 0;
  for (let i = 0; i < ordered.length; i++) {
    cumulative += weights[i];
    // The last boundary is pinned so float rounding can never leave a layer uncovered.
    const end = i === ordered.length - 1 ? numLayers : Math.round((cumulative * numLayers) / total);
    if (end > start) {
      ranges.push({ nodeId: ordered[i].nodeId, startLayer: start, endLayer: end - 1 });
      start = end;
    }
  }
  return ranges;
}

function validateNodes(nodes: readonly PartitionNode[]): void {
  const seen = new Set<string>();
  for (const node of nodes) {
    if (typeof node.nodeId !== "string") {
      throw new TypeError(
        `Cannot partition layers: node id ${String(node.nodeId)} is not a string`,
      );
    }
    if (seen.has(node.nodeId)) {
      throw new TypeError(`Cannot partition layers: node id "${node.nodeId}" appears twice`);
    }
    seen.add(node.nodeId);
    if (typeof node.memory !== "number") {
      throw new TypeError(
        `Cannot partition layers: memory of "${node.nodeId}" is not a number: ${
          String(node.memory)
        }`,
      );
    }
    if (!Number.isFinite(node.memory) || node.memory < 0) {
      throw new RangeError(
        `Cannot partition layers: memory of "${node.nodeId}" is ${node.memory}, expected a finite number >= 0`,
      );
    }
  }
}

// Plain code-unit comparison, not localeCompare, so the order cannot depend on the locale.
function byMemoryThenIdDescending(a: PartitionNode, b: PartitionNode): number {
  if (a.memory !== b.memory) return b.memory - a.memory;
  if (a.nodeId === b.nodeId) return 0;
  return a.nodeId < b.nodeId ? 1 : -1;
}
