#!/usr/bin/env bash
# Install the command-line media tools that benchmarks and end-to-end tests use (ffmpeg, sox)
# from Debian's packages when they are missing. Exit 0 when all requested tools are present.
# Usage: scripts/ensure_media_tools.sh [ffmpeg] [sox] [chromium]
set -u
want=("$@"); [ ${#want[@]} -eq 0 ] && want=(ffmpeg sox)
missing=()
for t in "${want[@]}"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "ensure_media_tools: need root to install: ${missing[*]}" >&2; exit 1; }
pkgs=()
for t in "${missing[@]}"; do
  case "$t" in
    sox) pkgs+=(sox libsox-fmt-all) ;;
    chromium) pkgs+=(chromium chromium-driver) ;;
    *) pkgs+=("$t") ;;
  esac
done
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
for t in "${want[@]}"; do command -v "$t" >/dev/null 2>&1 || { echo "ensure_media_tools: $t still missing" >&2; exit 1; }; done
