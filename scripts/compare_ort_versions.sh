#!/usr/bin/env bash
# Usage: scripts/compare_ort_versions.sh VERSION_A VERSION_B [SHAPE] [DTYPE] [PROVIDER] [ROUNDS] [PROMPT] [DECODE]
#
# Two onnxruntime-node versions on the same converted shard, in the same run, taking turns:
# bench:engine's run worker (a fresh process each time) under a deno.json that maps
# onnxruntime-node and onnxruntime-common to each version. Prints each round's figures and
# the median of the paired per-round ratios B/A. How the project picked its version (see
# README, "The GPU"). For webgpu on Linux, export lavapipe's variables first
# (scripts/ci/webgpu_lavapipe.sh).
set -euo pipefail

[[ $# -ge 2 ]] || { sed -n '2,9p' "$0" >&2; exit 2; }
a=$1 b=$2 shape=${3:-smollm2-135m-like} dtype=${4:-q4} provider=${5:-cpu}
rounds=${6:-6} prompt=${7:-512} decode=${8:-128}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$root/scripts/bench_engine.ts"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cache="${XDG_CACHE_HOME:-$HOME/.cache}/exo-node-bench"

for version in "$a" "$b"; do
  mkdir -p "$work/$version"
  python3 - "$root/deno.json" "$work/$version/deno.json" "$version" <<'PY'
import json, sys
source, target, version = sys.argv[1:]
config = json.load(open(source))
for key in ("workspace", "tasks"):
    config.pop(key, None)
config["imports"]["onnxruntime-node"] = f"npm:onnxruntime-node@{version}"
config["imports"]["onnxruntime-common"] = f"npm:onnxruntime-common@{version}"
json.dump(config, open(target, "w"))
PY
done

# The checkpoint (bench:engine writes it once) and one shard converted with version A.
deno run --allow-all --config "$root/deno.json" - <<EOF2
import { ensureRandomCheckpoint, realShapeSpecs } from "$root/tests/fixtures/make_checkpoint.ts";
await ensureRandomCheckpoint("$cache/checkpoints/$shape", realShapeSpecs["$shape"]);
EOF2
model="$cache/checkpoints/$shape"
worker() { # mode version result
  deno run --allow-all --no-lock --config "$work/$2/deno.json" "$bench" --worker "$1" \
    --result "$3" --model-dir "$model" --shard-cache "$work/shard" --dtypes "$dtype" \
    --execution-provider "$provider" --prompt "$prompt" --decode "$decode" >/dev/null 2>&1
}
worker convert "$a" "$work/convert.json"

for round in $(seq "$rounds"); do
  for version in "$a" "$b"; do
    worker run "$version" "$work/$version-$round.json"
  done
done
python3 - "$work" "$a" "$b" "$rounds" <<'PY'
import json, statistics, sys
work, a, b, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
keys = [("prefillTokensPerSecond", "prefill tok/s"), ("decodeTokensPerSecond", "decode after prompt"),
        ("emptyContextDecodeTokensPerSecond", "decode from empty"), ("warmLoadMs", "warm load ms"),
        ("peakRssBytes", "peak RSS")]
runs = {v: [json.load(open(f"{work}/{v}-{r}.json")) for r in range(1, rounds + 1)] for v in (a, b)}
for r in range(rounds):
    for v in (a, b):
        x = runs[v][r]
        print(f"round {r + 1} {v:>8}: " + ", ".join(f"{label} {x[k]:.1f}" for k, label in keys[:4])
              + f", peak RSS {x['peakRssBytes'] / 1e6:.0f} MB, {x['placement']}")
print(f"\nmedian of paired ratios {b} / {a} over {rounds} rounds:")
for k, label in keys:
    print(f"  {label}: {statistics.median(runs[b][r][k] / runs[a][r][k] for r in range(rounds)):.3f}")
PY
