#!/bin/sh
# Installs the test-only judges of the ONNX export (docs/deploy.md):
#   - Node.js and npm (Debian nodejs npm), only when `node` or `npm` is missing
#     (a newer Node from elsewhere conflicts with Debian's npm package);
#   - ONNX Runtime, npm onnxruntime-node, into tools/ort/ (git-ignored), with
#     --ignore-scripts: its install script would fetch a GPU build; the
#     package itself ships the linux-x64 CPU runtime;
#   - the ONNX model checker, Debian python3-onnx.
# Run as root (or with sudo) from anywhere; re-running is harmless.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export DEBIAN_FRONTEND=noninteractive
apt_get() {
    if [ "$(id -u)" -eq 0 ]; then apt-get "$@"; else sudo apt-get "$@"; fi
}
pkgs=""
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    pkgs="nodejs npm"
fi
if ! /usr/bin/python3 -c 'import onnx' >/dev/null 2>&1; then
    pkgs="$pkgs python3-onnx"
fi
if [ -n "$pkgs" ]; then
    apt_get update -qq
    # shellcheck disable=SC2086
    apt_get install -y -qq $pkgs >/dev/null
fi
if [ ! -f "$here/ort/node_modules/onnxruntime-node/package.json" ]; then
    mkdir -p "$here/ort"
    npm install --prefix "$here/ort" --ignore-scripts --no-save --no-audit --no-fund onnxruntime-node >/dev/null
fi
node -e "const o = require('$here/ort/node_modules/onnxruntime-node'); console.log('ONNX Runtime ' + o.env.versions.common + ' in tools/ort/')"
/usr/bin/python3 -c 'import onnx; print("onnx " + onnx.__version__ + " (checker)")'
