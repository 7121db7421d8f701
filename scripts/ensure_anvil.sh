#!/usr/bin/env bash
# Make a local `anvil` (Foundry's Ethereum dev node) available for the certificate tests.
# Installs the npm package @foundry-rs/anvil into .tools/anvil (project-local, ignored by git)
# and prints the path of the binary on stdout. Exit 0 with the path, 1 when npm is unavailable
# or the install fails (the reason goes to stderr).
set -u
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PREFIX="${PROVKIT_TOOLS_DIR:-$ROOT/.tools}/anvil"
find_bin() {
  for b in "$PREFIX"/node_modules/@foundry-rs/anvil-*/bin/anvil "$PREFIX"/node_modules/.bin/anvil; do
    if [ -x "$b" ] && "$b" --version >/dev/null 2>&1; then echo "$b"; return 0; fi
  done
  return 1
}
if find_bin; then exit 0; fi
if ! command -v npm >/dev/null 2>&1; then
  echo "ensure_anvil: npm is not installed" >&2; exit 1
fi
mkdir -p "$PREFIX"
if ! npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error @foundry-rs/anvil >/dev/null 2>"$PREFIX/npm.log"; then
  echo "ensure_anvil: npm install @foundry-rs/anvil failed: $(tail -n 1 "$PREFIX/npm.log")" >&2; exit 1
fi
if find_bin; then exit 0; fi
echo "ensure_anvil: installed @foundry-rs/anvil but found no working anvil binary under $PREFIX" >&2
exit 1
