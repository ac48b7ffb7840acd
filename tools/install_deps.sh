#!/bin/sh
# Installs the Debian packages liblpnas needs (build, tests, fuzzing).
# Works as root (Debian containers have no sudo) and as a user with sudo.
set -eu
PACKAGES="build-essential pkg-config libopenblas-dev libpng-dev zlib1g-dev check clang libclang-rt-14-dev openmpi-bin libopenmpi-dev"
if [ "$(id -u)" -eq 0 ]; then
    SUDO=
elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
else
    echo "install_deps.sh: not root and no sudo: install as root: apt-get install -y $PACKAGES" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y $PACKAGES
# the test-only judges of the ONNX export (ONNX Runtime from npm, the onnx checker)
sh "$(dirname "$0")/install_ort.sh"
