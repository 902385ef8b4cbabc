#!/bin/sh
# Print the path of Debian's `chromium` for the browser tests, installing it first if we can.
#
# - chromium on PATH: print its path, exit 0.
# - not on PATH, running as root with apt-get (CI): apt-get install chromium, print its path.
# - otherwise (a student laptop): explain on stderr and exit 3; the browser test then skips.
# `playwright install` is not used: it downloads a browser build, which is not possible offline.
set -eu

if command -v chromium >/dev/null 2>&1; then
    command -v chromium
    exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "chromium is not installed; install your system's chromium package (Debian/Ubuntu:" \
         "sudo apt-get install chromium) to run the browser tests" >&2
    exit 3
fi
echo "installing Debian's chromium with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq chromium; } >&2; then
    echo "apt-get could not install chromium (offline?); the browser tests need it" >&2
    exit 3
fi
command -v chromium
