#!/usr/bin/env bash
# Make a PostgreSQL server answer on 127.0.0.1:5432 for the test suite.
# Already running: nothing to do. Installed but stopped: start it. Absent: install Debian's
# package and start it (needs root and the Debian package registry). Exit 0 when it answers.
set -u
answers() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null || \
  python3 - <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(); s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", 5432)) == 0 else 1)
PY
}
answers && exit 0
if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { echo "ensure_postgres: not root, cannot install postgresql" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) || {
    echo "ensure_postgres: apt-get install postgresql failed" >&2; exit 1; }
fi
ver=$(ls /etc/postgresql | sort -V | tail -n 1)
conf=/etc/postgresql/$ver/main
if ! grep -q "provkit-test" "$conf/pg_hba.conf" 2>/dev/null; then
  { echo "# provkit-test: trust on loopback for the test suite"
    echo "host all all 127.0.0.1/32 trust"; echo "host all all ::1/128 trust"
    echo "local all all trust"; cat "$conf/pg_hba.conf"; } > /tmp/pg_hba.$$ && \
    cat /tmp/pg_hba.$$ > "$conf/pg_hba.conf" && rm -f /tmp/pg_hba.$$
fi
pg_ctlcluster --skip-systemctl-redirect "$ver" main start 2>/dev/null || \
  pg_ctlcluster "$ver" main start 2>/dev/null || true
for _ in $(seq 1 30); do answers && exit 0; sleep 1; done
echo "ensure_postgres: server did not come up" >&2
exit 1
