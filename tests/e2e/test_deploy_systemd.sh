#!/usr/bin/env bash
# Issue 11: deploy/dripr-data-fetcher.service passes `systemd-analyze verify` with no
# warning at all, and has what the runbook relies on: restart on failure but not on bad
# configuration (exit 2), a stop timeout longer than the shutdown deadline, an
# EnvironmentFile and the hardening options.
source "$(dirname "$0")/lib.sh"
command -v systemd-analyze >/dev/null || fail "systemd-analyze not found (Debian package systemd)"
unit=${DRIPR_SOURCE_DIR:?}/deploy/dripr-data-fetcher.service

# verify checks that ExecStart exists: point it at the binary under test.
sed "s|^ExecStart=/usr/local/bin/dripr |ExecStart=$DRIPR_BIN |" "$unit" >"$E2E_TMP/dripr-data-fetcher.service"
grep -q "^ExecStart=$DRIPR_BIN data-fetcher$" "$E2E_TMP/dripr-data-fetcher.service" || fail "ExecStart is not /usr/local/bin/dripr data-fetcher"
rc=0
systemd-analyze verify "$E2E_TMP/dripr-data-fetcher.service" >"$E2E_TMP/verify.log" 2>&1 || rc=$?
[[ $rc -eq 0 && ! -s $E2E_TMP/verify.log ]] || fail "systemd-analyze verify (rc $rc): $(cat "$E2E_TMP/verify.log")"

value() { sed -n "s/^$1=//p" "$unit" | tail -1; }
for want in Restart=on-failure RestartPreventExitStatus=2 NoNewPrivileges=yes ProtectSystem=strict \
  ProtectHome=yes PrivateTmp=yes KillSignal=SIGTERM EnvironmentFile=/etc/dripr/dripr.env User=dripr; do
  [[ $(value "${want%%=*}") == "${want#*=}" ]] || fail "the unit should have $want, has '$(value "${want%%=*}")'"
done
# The stop timeout must exceed the fetcher's shutdown deadline: its default as documented
# in docs/architecture.md's settings table.
deadline=$(sed -n 's/^| `DRIPR_SHUTDOWN_DEADLINE_SECONDS` | \([0-9]*\) .*/\1/p' "$DRIPR_SOURCE_DIR/docs/architecture.md")
[[ $deadline =~ ^[0-9]+$ ]] || fail "DRIPR_SHUTDOWN_DEADLINE_SECONDS default not found in docs/architecture.md"
stop=$(value TimeoutStopSec)
((stop > deadline)) || fail "TimeoutStopSec=$stop is not longer than the shutdown deadline ${deadline}s"
echo "PASS"
