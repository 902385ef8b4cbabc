#!/bin/sh
# Put mermaid's browser build (dist/mermaid.min.js of the npm package) at $2, for the course site.
#   sh docs/site/fetch_mermaid.sh VERSION DEST
# Needs npm (and the npm registry) once, at install time; the site then works offline. Without
# npm: installs Debian's npm when root with apt-get (CI), else explains and exits 3.
set -eu
version=$1
dest=$2
if ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "npm is not installed: install Node.js/npm to build the course site (make site)" >&2
        exit 3
    fi
    echo "installing Debian's npm with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "mermaid@$version" >/dev/null)
tar -xzf "$work/mermaid-$version.tgz" -C "$work" package/dist/mermaid.min.js
mkdir -p "$(dirname "$dest")"
mv "$work/package/dist/mermaid.min.js" "$dest"
touch "$dest"  # the package dates its files 1985: make would fetch it again every time
echo "$dest: mermaid $version"
