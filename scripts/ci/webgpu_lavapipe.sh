#!/usr/bin/env bash
# Usage: scripts/ci/webgpu_lavapipe.sh DIR
#
# Makes Mesa's lavapipe (a CPU Vulkan driver) from bookworm-backports usable by one process
# tree, so onnxruntime-node's WebGPU EP (Dawn over Vulkan) runs on a machine with no GPU.
# Debian 12's own Mesa 22.3.6 is not enough: Dawn rejects it ("Vulkan
# shaderUniform*ArrayDynamicIndexing required") and onnxruntime does not fall back to CPU.
#
# Nothing is installed: apt-get only downloads (-d), with its own sources list, lists and
# cache under DIR, resolving against the system's dpkg status so that only the packages the
# system lacks (or has too old) come down; the .debs are unpacked with dpkg-deb -x into
# DIR/root. Works without root. On success stdout holds only `export NAME=value` lines for
# `eval "$(scripts/ci/webgpu_lavapipe.sh DIR)"`; progress goes to stderr. A second run with
# the same DIR reuses DIR/root without the network and prints the same lines.
set -euo pipefail

package="mesa-vulkan-drivers"
release="bookworm-backports"

fail() {
  printf 'Cannot set up lavapipe: %s\n' "$1" >&2
  exit 1
}

[[ $# -eq 1 && -n "$1" ]] || fail "expected one argument, the directory to work in (usage: $0 DIR)"

for tool in apt-get dpkg dpkg-deb; do
  command -v "$tool" >/dev/null || fail "$tool not found (needs a Debian 12 system)"
done
[[ -r /var/lib/dpkg/status ]] || fail "/var/lib/dpkg/status not readable"
# Backports built for bookworm, resolved against this system's packages, fit only bookworm.
# shellcheck source=/dev/null
codename="$(. /etc/os-release 2>/dev/null && printf '%s' "${VERSION_CODENAME:-}")" || codename=""
[[ "$codename" == "bookworm" ]] ||
  fail "this system is ${codename:-not Debian}, the packages are for Debian 12 (bookworm)"

safe_path='^[A-Za-z0-9_./+-]+$'
[[ "$1" =~ $safe_path ]] || fail "directory $1 has characters other than [A-Za-z0-9_./+-]"
mkdir -p "$1" 2>/dev/null || fail "cannot create directory $1"
[[ -w "$1" ]] || fail "directory $1 is not writable"
dir="$(cd "$1" && pwd -P)"
root="$dir/root"
icd="$root/usr/share/vulkan/icd.d/lvp_icd.json"
stamp="$root/.packages"

# The printed lines are eval'd as shell words; a path needing quotes would make them fragile.
[[ "$dir" =~ $safe_path ]] || fail "directory $dir has characters other than [A-Za-z0-9_./+-]"

# Runs of the same DIR wait for each other instead of unpacking over one another.
if command -v flock >/dev/null; then
  exec 9>"$dir/.lock"
  flock 9
fi

print_exports() {
  local lib
  lib="$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$icd")"
  printf 'export VK_DRIVER_FILES=%s\n' "$icd"
  printf 'export VK_ICD_FILENAMES=%s\n' "$icd"
  # Expanded by the caller's eval, so the output is the same whatever the environment holds.
  # shellcheck disable=SC2016
  printf 'export LD_LIBRARY_PATH=%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}\n' "$(dirname "$lib")"
  # Lavapipe compiles every WebGPU shader; a cache kept here (not under XDG_CACHE_HOME, which
  # tests point at empty folders) spares each process that work.
  printf 'export MESA_SHADER_CACHE_DIR=%s\n' "$root/shader-cache"
}

if [[ -f "$stamp" && -f "$icd" ]]; then
  lib="$(sed -n 's/.*"library_path"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' "$icd")"
  if [[ "$lib" == "$root/"* && -f "$lib" ]]; then
    echo "lavapipe already unpacked in $root ($(wc -l <"$stamp") packages)" >&2
    print_exports
    exit 0
  fi
fi

# The Debian mirror the system already uses: the first source (deb822 .sources or one-line
# .list) that carries the plain `bookworm` suite, with its keyring when it names one.
find_mirror() {
  local file found
  for file in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$file" ]] || continue
    found="$(awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && uri != "") {
          print uri "\t" key
          found = 1
          exit
        }
        types = ""; suites = ""; uri = ""; key = ""
      }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      {
        field = tolower($1)
        sub(/^[^:]*:[[:space:]]*/, "")
        if (field == "types:") types = $0
        else if (field == "suites:") suites = $0
        else if (field == "uris:") { uri = $1 }
        else if (field == "signed-by:" && $1 ~ /^\//) key = $1
      }
      END { if (!found) flush() }
    ' "$file")"
    if [[ -n "$found" ]]; then
      printf '%s\n' "$found"
      return
    fi
  done
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$file" ]] || continue
    found="$(awk '
      $1 != "deb" { next }
      {
        key = ""; i = 2
        if ($2 ~ /^\[/) {
          for (; i <= NF; i++) {
            if ($i ~ /^\[?signed-by=/) { key = $i; sub(/^\[?signed-by=/, "", key); sub(/\]$/, "", key) }
            if ($i ~ /\]$/) { i++; break }
          }
        }
        if ($(i + 1) == "bookworm") { print $i "\t" key; exit }
      }
    ' "$file")"
    if [[ -n "$found" ]]; then
      printf '%s\n' "$found"
      return
    fi
  done
}

mirror_line="$(find_mirror)"
[[ -n "$mirror_line" ]] ||
  fail "no bookworm source in /etc/apt/sources.list or /etc/apt/sources.list.d/ to take the mirror from"
mirror="${mirror_line%%$'\t'*}"
keyring="${mirror_line#*$'\t'}"
options=""
if [[ -n "$keyring" ]]; then
  [[ -r "$keyring" ]] || fail "keyring $keyring named by the system's bookworm source is not readable"
  options="[signed-by=$keyring] "
fi

apt_dir="$dir/apt"
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/parts" \
  "$apt_dir/preferences.d" "$apt_dir/log"
cat >"$apt_dir/sources.list" <<EOF
deb ${options}${mirror} bookworm main
deb ${options}${mirror} bookworm-backports main
EOF
# The system's own pins stay out: they would change what resolves here.
: >"$apt_dir/preferences"

apt_options=(
  -o "Dir::Etc::SourceList=$apt_dir/sources.list"
  -o "Dir::Etc::SourceParts=$apt_dir/parts"
  -o "Dir::Etc::Preferences=$apt_dir/preferences"
  -o "Dir::Etc::PreferencesParts=$apt_dir/preferences.d"
  -o "Dir::State=$apt_dir/state"
  -o "Dir::State::status=/var/lib/dpkg/status"
  -o "Dir::Cache=$apt_dir/cache"
  -o "Dir::Log=$apt_dir/log"
  -o "Debug::NoLocking=1"
  # Downloads run as this user; as root apt would hand DIR to _apt, which may not reach it.
  -o "APT::Sandbox::User=$(id -un)"
  -o "APT::Get::List-Cleanup=0"
  -o "Acquire::Languages=none"
)

# Runs apt-get with its output in a log; on failure names the log and apt's first error.
run_apt() {
  local name="$1" log="$apt_dir/$1.log"
  shift
  if ! apt-get "${apt_options[@]}" "$@" >"$log" 2>&1; then
    local error
    error="$(grep -m 1 '^E: ' "$log" || tail -n 1 "$log")"
    fail "apt-get $name failed ($error; full log $log)"
  fi
}

echo "Fetching $package/$release from $mirror into $apt_dir" >&2
run_apt update --error-on=any update
# Old downloads would be unpacked too; keep only this run's.
rm -f "$apt_dir/cache/archives/"*.deb
run_apt install -q -y -d --reinstall --no-install-recommends install "$package/$release"

debs=("$apt_dir/cache/archives/"*.deb)
[[ -f "${debs[0]}" ]] || fail "apt-get downloaded no .deb for $package/$release"

partial="$dir/root.partial"
rm -rf "$partial"
mkdir -p "$partial"
for deb in "${debs[@]}"; do
  dpkg-deb -x "$deb" "$partial" || fail "dpkg-deb could not unpack $deb"
  basename "$deb" >>"$partial/.packages"
done

[[ -f "$partial/usr/share/vulkan/icd.d/lvp_icd.json" ]] ||
  fail "$package from $release has no usr/share/vulkan/icd.d/lvp_icd.json"
lvp="$(find "$partial" -name libvulkan_lvp.so -print -quit)"
[[ -n "$lvp" ]] || fail "$package from $release has no libvulkan_lvp.so"
# The path it will have once root.partial becomes root.
lvp="$root${lvp#"$partial"}"
sed -i "s|\"library_path\"[[:space:]]*:[[:space:]]*\"[^\"]*\"|\"library_path\": \"$lvp\"|" \
  "$partial/usr/share/vulkan/icd.d/lvp_icd.json"
grep -q "\"library_path\": \"$lvp\"" "$partial/usr/share/vulkan/icd.d/lvp_icd.json" ||
  fail "could not rewrite library_path in lvp_icd.json"

rm -rf "$root"
mv "$partial" "$root"
echo "lavapipe unpacked in $root from: $(tr '\n' ' ' <"$root/.packages")" >&2
print_exports
