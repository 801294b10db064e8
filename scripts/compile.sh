#!/usr/bin/env bash
# Builds the standalone `exo-node` binary with `deno compile`.
#
# Usage: scripts/compile.sh [--target TRIPLE] [--output PATH] [--entry FILE] [--dry-run]
#                           [DENO_COMPILE_ARGS...]
#
#   --target TRIPLE  aarch64-apple-darwin (default), x86_64-apple-darwin,
#                    x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu  [env EXO_TARGET]
#   --output PATH    where the binary goes (default: <repo>/dist/exo-node)   [env EXO_OUTPUT]
#   --entry FILE     the program's entry module (default: <repo>/main.ts)    [env EXO_ENTRY]
#   --dry-run        check a build without downloading `denort` (for machines that cannot
#                    reach the Deno download servers): a stand-in runtime (or $DENORT_BIN)
#                    takes its place, so the module graph, the type check and the "Embedded
#                    Files" listing are real but the output is NOT runnable. Without
#                    --output it is written to a temporary folder and removed at the end,
#                    so dist/ never holds it; with --output it is kept there for inspection.
#   Anything else (e.g. `--include npm:pkg`) is passed to `deno compile` unchanged.
#
# Only the target platform's onnxruntime-node binaries are embedded, and the binary is
# self-extracting so that the `.node` addon finds its sibling libonnxruntime on disk.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

fail() {
  echo "compile.sh: $*" >&2
  exit 1
}

# Paths given by the caller are relative to the caller's directory.
absolute() {
  case "$1" in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s\n' "$PWD/$1" ;;
  esac
}

target="${EXO_TARGET:-aarch64-apple-darwin}"
output="${EXO_OUTPUT:+$(absolute "$EXO_OUTPUT")}"
entry="$(absolute "${EXO_ENTRY:-$root/main.ts}")"
dry_run=false
extra_args=()

while (($# > 0)); do
  case "$1" in
    --target) target="${2:?--target needs a value}" && shift ;;
    --target=*) target="${1#*=}" ;;
    --output | -o) output="$(absolute "${2:?--output needs a value}")" && shift ;;
    --output=*) output="$(absolute "${1#*=}")" ;;
    --entry) entry="$(absolute "${2:?--entry needs a value}")" && shift ;;
    --entry=*) entry="$(absolute "${1#*=}")" ;;
    --dry-run) dry_run=true ;;
    -h | --help) usage && exit 0 ;;
    --) shift && extra_args+=("$@") && break ;;
    *) extra_args+=("$1") ;;
  esac
  shift
done

# onnxruntime-node names its binary folders after Node's process.platform/process.arch.
case "$target" in
  aarch64-apple-darwin) ort_platform=darwin/arm64 ;;
  x86_64-apple-darwin) ort_platform=darwin/x64 ;;
  x86_64-unknown-linux-gnu) ort_platform=linux/x64 ;;
  aarch64-unknown-linux-gnu) ort_platform=linux/arm64 ;;
  *) fail "Cannot build for target: $target is not one of aarch64-apple-darwin, x86_64-apple-darwin, x86_64-unknown-linux-gnu, aarch64-unknown-linux-gnu" ;;
esac

[[ -f "$entry" ]] || fail "Cannot build: entry module $entry does not exist"
command -v deno >/dev/null || fail "Cannot build: deno is not on PATH"

cd "$root"

# The npm cache location depends on DENO_DIR, the registry and the locked version, so ask
# Deno where it keeps onnxruntime-node instead of guessing (`deno info` also fetches it).
ort_info="$(
  deno info --json --config "$root/deno.json" "$entry" | deno eval --no-config '
    const info = JSON.parse(await new Response(Deno.stdin.readable).text());
    const ort = Object.values(info.npmPackages ?? {}).find((p) => p.name === "onnxruntime-node");
    console.log(ort ? ort.version + "\t" + ort.localPath : "");
  '
)"
ort_version="${ort_info%%$'\t'*}"
ort_dir="${ort_info#*$'\t'}"

exclude_args=()
if [[ -z "$ort_dir" ]]; then
  echo "Warning: the lockfile has no onnxruntime-node; this build cannot run inference" >&2
else
  ort_bins=("$ort_dir"/bin/napi-v*/*/*)
  kept=""
  for dir in "${ort_bins[@]}"; do
    [[ -d "$dir" ]] || continue
    case "$dir" in
      */"$ort_platform") kept="$dir" ;;
      *) exclude_args+=(--exclude "$dir") ;;
    esac
  done
  if [[ -z "$kept" ]]; then
    echo "Warning: onnxruntime-node has no binaries for $ort_platform; this build cannot run inference" >&2
  elif [[ "$ort_platform" == darwin/* ]]; then
    # The package ships the dylib twice, as identical libonnxruntime.1.dylib and
    # libonnxruntime.<version>.dylib. The addon loads only the one named in its load
    # commands (@rpath/libonnxruntime.1.dylib in 1.30), so drop the other copy (~45 MB)
    # when that name can be read from the addon.
    needed="$(LC_ALL=C grep -aoE '@rpath/libonnxruntime[.0-9]*dylib' "$kept"/*.node | sed 's|.*@rpath/||' | sort -u || true)"
    if [[ -n "$needed" ]]; then
      for lib in "$kept"/libonnxruntime*.dylib; do
        grep -qxF "$(basename "$lib")" <<<"$needed" || exclude_args+=(--exclude "$lib")
      done
    fi
  fi
fi

include_args=()
if [[ -n "$ort_dir" ]]; then
  # --exclude-unused-npm embeds only packages the entry reaches statically; the inference
  # runtime must be in the binary however the program imports it.
  include_args+=(--include "npm:onnxruntime-node@$ort_version")
fi
# Workers are not found by the module graph walk: shard conversion runs in one.
include_args+=(--include "$root/lib/inference/onnx/shard_build_worker.ts")
# The web page needs no --include: lib/api/web_page.ts imports its files as text, so the
# module graph carries web/index.html, web/styles.css, web/favicon.svg and web/dist/app.js.

if [[ "$dry_run" == true && -z "${DENORT_BIN:-}" ]]; then
  # Any file of the target's executable format will do: the output is never executed.
  case "$target" in
    *-apple-darwin)
      stand_ins=("$ort_dir"/bin/napi-v*/darwin/arm64/onnxruntime_binding.node)
      DENORT_BIN="${stand_ins[0]}"
      [[ -n "$ort_dir" && -f "$DENORT_BIN" ]] || fail "Cannot dry-run: no Mach-O file to stand in for denort (set DENORT_BIN)"
      ;;
    *) DENORT_BIN="$(realpath "$(command -v deno)")" ;;
  esac
  export DENORT_BIN
fi

if [[ -z "$output" && "$dry_run" == true ]]; then
  # Not runnable: never where a real build goes, and gone when the listing is printed.
  dry_run_dir="$(mktemp -d "${TMPDIR:-/tmp}/exo-node-dry-run.XXXXXX")"
  trap 'rm -rf "$dry_run_dir"' EXIT
  output="$dry_run_dir/exo-node.dry-run-not-runnable"
fi
output="${output:-$root/dist/exo-node}"
mkdir -p "$(dirname "$output")"

echo "Building $output" >&2
echo "  target:   $target (onnxruntime-node binaries: ${ort_platform})" >&2
echo "  entry:    $entry" >&2
for ((i = 1; i < ${#exclude_args[@]}; i += 2)); do
  echo "  excluded: ${exclude_args[i]#"$ort_dir"/}" >&2
done
for ((i = 1; i < ${#include_args[@]}; i += 2)); do
  echo "  included: ${include_args[i]}" >&2
done
[[ "$dry_run" == false ]] || echo "  DRY RUN:  runtime is $DENORT_BIN; the output is not runnable" >&2

deno compile \
  --config "$root/deno.json" \
  --target "$target" \
  --output "$output" \
  --allow-net --allow-read --allow-write --allow-env --allow-sys --allow-ffi --allow-run \
  --self-extracting \
  --exclude-unused-npm \
  ${include_args[@]+"${include_args[@]}"} \
  ${exclude_args[@]+"${exclude_args[@]}"} \
  ${extra_args[@]+"${extra_args[@]}"} \
  "$entry"

if [[ "$dry_run" == true ]]; then
  if [[ -n "${dry_run_dir:-}" ]]; then
    echo "Dry run done: the graph and the files above are what a build embeds; its output was not runnable and is removed" >&2
  else
    echo "Dry run done: $output is NOT runnable (its runtime is a stand-in); the embedded files are real" >&2
  fi
fi
