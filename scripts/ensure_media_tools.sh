#!/usr/bin/env bash
# Install the command-line media tools that benchmarks and end-to-end tests use (ffmpeg, sox)
# from Debian's packages when they are missing. Exit 0 when all requested tools are present.
# Usage: scripts/ensure_media_tools.sh [ffmpeg] [sox] [chromium]
set -u
want=("$@"); [ ${#want[@]} -eq 0 ] && want=(ffmpeg sox)
have() {  # chromium also needs a CJK font so Chinese UI text renders in screenshots
  case "$1" in
    chromium) command -v chromium >/dev/null 2>&1 && dpkg -s fonts-wqy-microhei >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 ;;
  esac
}
missing=()
for t in "${want[@]}"; do have "$t" || missing+=("$t"); done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "ensure_media_tools: need root to install: ${missing[*]}" >&2; exit 1; }
pkgs=()
for t in "${missing[@]}"; do
  case "$t" in
    sox) pkgs+=(sox libsox-fmt-all) ;;
    wrk) pkgs+=(wrk) ;;
    chromium) pkgs+=(chromium chromium-driver fonts-wqy-microhei) ;;
    *) pkgs+=("$t") ;;
  esac
done
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null
for t in "${want[@]}"; do have "$t" || { echo "ensure_media_tools: $t still missing" >&2; exit 1; }; done
