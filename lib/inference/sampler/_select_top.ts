// Partial selection of the highest-key tokens without sorting the whole vocabulary: bucket the
// candidates by key, keep every bucket above the one where the goal is crossed, and refine only
// that bucket (recursively, with finer buckets over its own range) until it is small enough to
// sort. A flat distribution over 128k tokens and a peaked one both cost a few linear passes.

const BUCKETS = 256;
const SORT_AT_MOST = 64;

/**
 * Rewrites `ids` so that its first r entries are the r highest-key ids, and returns r: the
 * smallest count that reaches `countGoal` ids or whose weights sum to at least `massGoal`
 * (all of `ids` when neither is reached). Entries after the first r are left unspecified.
 * Equal keys go to the lower id, which needs `ids` ascending on entry. `keys` and `weights`
 * are indexed by id; a larger key means a larger weight.
 */
export function selectTop(
  ids: Int32Array,
  keys: Float64Array,
  weights: Float64Array,
  countGoal: number,
  massGoal: number,
): number {
  const counts = new Int32Array(BUCKETS);
  const masses = new Float64Array(BUCKETS);
  const starts = new Int32Array(BUCKETS);
  let scratch: Int32Array | undefined;
  let lo = 0;
  let hi = ids.length;
  while (true) {
    if (hi - lo <= SORT_AT_MOST) {
      sortRange(ids, lo, hi, keys);
      return walk(ids, lo, hi, weights, countGoal, massGoal);
    }
    let kmin = Infinity;
    let kmax = -Infinity;
    for (let i = lo; i < hi; i++) {
      const k = keys[ids[i]];
      if (k < kmin) kmin = k;
      if (k > kmax) kmax = k;
    }
    if (kmin === kmax) return walk(ids, lo, hi, weights, countGoal, massGoal);

    const scale = BUCKETS / (kmax - kmin);
    counts.fill(0);
    masses.fill(0);
    for (let i = lo; i < hi; i++) {
      const id = ids[i];
      const b = Math.min(BUCKETS - 1, Math.floor((kmax - keys[id]) * scale));
      counts[b]++;
      masses[b] += weights[id];
    }
    let boundary = -1;
    let countBefore = 0;
    let massBefore = 0;
    for (let b = 0; b < BUCKETS; b++) {
      if (countBefore + counts[b] >= countGoal || massBefore + masses[b] >= massGoal) {
        boundary = b;
        break;
      }
      countBefore += counts[b];
      massBefore += masses[b];
    }
    if (boundary < 0) return hi;

    // A stable counting sort keeps equal keys in ascending id order for the next round;
    // buckets below the boundary are dropped, so they are not even written.
    scratch ??= new Int32Array(hi - lo);
    let offset = 0;
    for (let b = 0; b <= boundary; b++) {
      starts[b] = offset;
      offset += counts[b];
    }
    for (let i = lo; i < hi; i++) {
      const id = ids[i];
      const b = Math.min(BUCKETS - 1, Math.floor((kmax - keys[id]) * scale));
      if (b <= boundary) scratch[starts[b]++] = id;
    }
    ids.set(scratch.subarray(0, offset), lo);

    const boundaryStart = lo + countBefore;
    lo = boundaryStart;
    hi = boundaryStart + counts[boundary];
    countGoal -= countBefore;
    massGoal -= massBefore;
  }
}

function sortRange(ids: Int32Array, lo: number, hi: number, keys: Float64Array): void {
  const part = Array.from(ids.subarray(lo, hi));
  part.sort((a, b) => keys[b] - keys[a] || a - b);
  ids.set(part, lo);
}

function walk(
  ids: Int32Array,
  lo: number,
  hi: number,
  weights: Float64Array,
  countGoal: number,
  massGoal: number,
): number {
  let count = 0;
  let mass = 0;
  for (let i = lo; i < hi; i++) {
    count++;
    mass += weights[ids[i]];
    if (count >= countGoal || mass >= massGoal) return i + 1;
  }
  return hi;
}
