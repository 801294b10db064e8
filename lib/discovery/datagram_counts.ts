/** What happened to datagrams, by outcome; every datagram read lands in exactly one. */
export interface DatagramCounts {
  /** An announcement of another node, recorded. */
  accepted: number;
  /** This node's own announcement, heard back. */
  own: number;
  /** Over the per-sender or total rate. */
  rate_limited: number;
  /** Longer than 1200 bytes. */
  oversize: number;
  /** Not UTF-8 JSON. */
  not_json: number;
  /** JSON, but not an exo-node announcement. */
  not_announcement: number;
  /** Another format version. */
  wrong_version: number;
  /** A missing or invalid field. */
  invalid: number;
  /** The address it claims is not the one it came from. */
  address_mismatch: number;
  /** From an address on none of this node's links. */
  off_link: number;
  /** From a node speaking another wire protocol version. */
  protocol_mismatch: number;
  /** From a node outside `--node-id-filter`. */
  filtered: number;
  /** From a second process announcing an id another one holds (or this node's own id). */
  duplicate_id: number;
  /** From a new node while the most nodes are remembered already. */
  too_many_peers: number;
}

/** Every count at zero. */
export function emptyCounts(): DatagramCounts {
  return {
    accepted: 0,
    own: 0,
    rate_limited: 0,
    oversize: 0,
    not_json: 0,
    not_announcement: 0,
    wrong_version: 0,
    invalid: 0,
    address_mismatch: 0,
    off_link: 0,
    protocol_mismatch: 0,
    filtered: 0,
    duplicate_id: 0,
    too_many_peers: 0,
  };
}
