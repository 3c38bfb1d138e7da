#!/usr/bin/env bash
# Installs everything bindsight needs on a fresh Debian 12 (as root) and builds
# it: system packages, npm dependencies, the BPF objects, the native addon and
# the TypeScript. Safe to run again. The Dockerfile calls this script too.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build tools and the peers the test suite queries with (real clients, no mocks).
# --no-install-recommends: avahi-utils would pull libnss-mdns, which rewrites
# /etc/nsswitch.conf so that *.local never reaches unicast DNS.
PKGS=(
  build-essential python3 pkg-config make
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  iproute2 procps libcap2-bin util-linux
  bind9-dnsutils knot-dnsutils nsd python3-dnspython
  bind9-utils # named-checkzone: a real peer validates zones/*.zone in tests
)
if [ "${BINDSIGHT_SKIP_APT:-}" != 1 ]; then
  missing=()
  for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "setup: need root to apt-get install: ${missing[*]}" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  # Debian starts nsd on install; the tests run their own instance.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now nsd >/dev/null 2>&1 || true; fi
fi

# npm ci only when the lockfile changed since the last install, so that running
# this again (the README's run command) is quick and leaves node_modules alone.
stamp=node_modules/.bindsight-lock
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" > "$stamp"
fi
npm run build
