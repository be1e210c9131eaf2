#!/usr/bin/env bash
# No accidental databases, no ghost files (issue 9): read-only commands create nothing, a
# DATABASE_URL that cannot be a database is exit 2 everywhere, corruption is exit 1, and a
# fetcher whose database file is removed or replaced stops with exit 1 and says why.
source "$(dirname "$0")/lib.sh"
export EVENT_BUS=embedded DATA_PROVIDER=sample DRIPR_LOG_LEVEL=info
unset DATABASE_URL EMBEDDED_BUS_PATH

# expect_exit CODE PATTERN COMMAND... — runs the command, checks its exit code and that stderr
# matches PATTERN (grep -E).
expect_exit() {
  local want=$1 pattern=$2 rc=0
  shift 2
  "$@" >"$E2E_TMP/out" 2>"$E2E_TMP/err" || rc=$?
  [[ $rc -eq $want ]] || fail "$* exited $rc, want $want: $(cat "$E2E_TMP/err")"
  grep -Eq -- "$pattern" "$E2E_TMP/err" || fail "$*: stderr does not match '$pattern': $(cat "$E2E_TMP/err")"
  [[ $(wc -l <"$E2E_TMP/err") -le 1 ]] || fail "$*: more than one line of error: $(cat "$E2E_TMP/err")"
}

# 1. Read-only commands against a directory with no database: exit 2, a one-line hint, no file.
empty=$E2E_TMP/empty && mkdir "$empty"
for cmd in "campaign list" "campaign show x" "queues" "dlq list active_listings" "dlq list bogus"; do
  # shellcheck disable=SC2086
  (cd "$empty" && expect_exit 2 "$empty/dripr.db: no database there; create one with \`dripr migrate\`" dripr $cmd)
done
[[ -z $(ls -A "$empty") ]] || fail "read-only commands created files: $(ls -A "$empty")"

# 2. A database without bus tables: `dlq list bogus` and `queues` create none.
export DATABASE_URL="sqlite:$E2E_TMP/store.db"
dripr campaign create --id c1 --zip 02139 >/dev/null || fail "create c1"
expect_exit 1 "not set up yet .*\`dripr migrate\` or \`dripr data-fetcher\` creates it" dripr dlq list bogus
expect_exit 1 "not set up yet" dripr queues
tables=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from sqlite_master where name like \"bus_%\"").fetchone()[0])' "$E2E_TMP/store.db")
[[ $tables -eq 0 ]] || fail "read-only commands created $tables bus tables"
dripr migrate >/dev/null || fail "migrate"  # creates the bus tables too
dripr queues >/dev/null || fail "queues after migrate"
expect_exit 2 'unknown queue "bogus"' dripr dlq list bogus

# 3. Configuration errors are exit 2 for every command.
mkdir "$E2E_TMP/a-dir.db"
printf 'certainly not an SQLite database, just some text' >"$E2E_TMP/text.db"
for url in "" "sqlite:$E2E_TMP/a-dir.db" "sqlite:$E2E_TMP/text.db" "mongodb://u@h/db" "sqlite:$E2E_TMP/no-such-dir/x.db"; do
  for cmd in "migrate" "campaign create --id c2 --zip 02139" "campaign list" "queues" "data-fetcher"; do
    # shellcheck disable=SC2086
    expect_exit 2 "DATABASE_URL|embedded bus" env DATABASE_URL="$url" "$DRIPR_BIN" $cmd
  done
done
expect_exit 2 "is set but empty" env DATABASE_URL= "$DRIPR_BIN" campaign list
expect_exit 2 "a-dir.db is a directory" env DATABASE_URL="sqlite:$E2E_TMP/a-dir.db" "$DRIPR_BIN" campaign list
expect_exit 2 "text.db is not an SQLite database" env DATABASE_URL="sqlite:$E2E_TMP/text.db" "$DRIPR_BIN" migrate

# A read-only file is a configuration error for a writing command, and fine for reading.
ro=$E2E_TMP/ro && mkdir "$ro" && cp "$E2E_TMP/store.db" "$ro/ro.db"
as_other=()
ro_bin=$DRIPR_BIN
if [[ $(id -u) -eq 0 ]]; then  # root writes anywhere: run as nobody for this check
  chown -R nobody "$ro" && chmod 755 "$E2E_TMP"
  as_other=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  # The build tree may sit where nobody cannot reach (e.g. under a 0700 temp dir).
  ro_bin=$E2E_TMP/dripr && cp "$DRIPR_BIN" "$ro_bin" && chmod 755 "$ro_bin"
fi
chmod 444 "$ro/ro.db"
expect_exit 2 "ro.db is read-only; this command writes" "${as_other[@]}" env DATABASE_URL="sqlite:$ro/ro.db" "$ro_bin" campaign start c1
"${as_other[@]}" env DATABASE_URL="sqlite:$ro/ro.db" "$ro_bin" campaign show c1 >/dev/null || fail "reading a read-only file"

# 4. Corruption: a damaged file is exit 1 when a command meets it; the fetcher checks the whole
# file (PRAGMA quick_check) before it accepts work.
cp "$E2E_TMP/store.db" "$E2E_TMP/damaged.db"
python3 - "$E2E_TMP/damaged.db" <<'PY'
import os, sys
size = os.path.getsize(sys.argv[1])
with open(sys.argv[1], "r+b") as f:  # scribble over the last quarter (zip centroid pages)
    f.seek(size * 3 // 4)
    f.write(b"\x5a" * (size // 8))
PY
expect_exit 1 "damaged.db is corrupt .*restore it from a backup" env DATABASE_URL="sqlite:$E2E_TMP/damaged.db" "$DRIPR_BIN" data-fetcher
head -c 8192 "$E2E_TMP/store.db" >"$E2E_TMP/truncated.db"
head -c 100000 /dev/urandom >>"$E2E_TMP/truncated.db"
expect_exit 1 "malformed|corrupt" env DATABASE_URL="sqlite:$E2E_TMP/truncated.db" "$DRIPR_BIN" campaign list

# 5. A relative sqlite: path is resolved against the current directory; the fetcher logs the
# absolute path it opened. Removing its file stops it with exit 1 and the reason.
(cd "$E2E_TMP" && DATABASE_URL=sqlite:rel.db dripr migrate >/dev/null) || fail "migrate rel.db"
[[ -f $E2E_TMP/rel.db ]] || fail "sqlite:rel.db not created in the current directory"
cd "$E2E_TMP"
start_fetcher removed DATABASE_URL=sqlite:rel.db
fetcher=$FETCHER_PID
poll 20 "fetcher started" grep -q "database=sqlite:$E2E_TMP/rel.db" "$E2E_TMP/removed.log"
rm "$E2E_TMP/rel.db"
rc=0
timeout 10 tail --pid="$fetcher" -f /dev/null || fail "fetcher still running 10 s after its file was removed"
wait "$fetcher" || rc=$?
[[ $rc -eq 1 ]] || fail "fetcher exited $rc after its database was removed, want 1"
grep -q "database file $E2E_TMP/rel.db was removed while open" "$E2E_TMP/removed.log" || fail "no reason logged"

# ... and so does replacing it (mv another database over it).
DATABASE_URL="sqlite:$E2E_TMP/swap.db" dripr migrate >/dev/null || fail "migrate swap.db"
cp "$E2E_TMP/swap.db" "$E2E_TMP/other.db"
start_fetcher replaced DATABASE_URL="sqlite:$E2E_TMP/swap.db"
fetcher=$FETCHER_PID
poll 20 "fetcher started" grep -q "data-fetcher started" "$E2E_TMP/replaced.log"
mv "$E2E_TMP/other.db" "$E2E_TMP/swap.db"
rc=0
timeout 10 tail --pid="$fetcher" -f /dev/null || fail "fetcher still running 10 s after its file was replaced"
wait "$fetcher" || rc=$?
[[ $rc -eq 1 ]] || fail "fetcher exited $rc after its database was replaced, want 1"
grep -q "was replaced by another file while open" "$E2E_TMP/replaced.log" || fail "no reason logged"
echo "PASS"
