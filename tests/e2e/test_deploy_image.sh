#!/usr/bin/env bash
# Issue 11: the container image. deploy/image.sh (what `make image` runs) builds it with
# buildah into a throw-away store and exports an OCI archive; the image's `dripr demo`
# runs inside it (`buildah run --isolation chroot`: this machine cannot start namespaced
# containers) and succeeds as the non-root user; its configuration and contents are the
# minimal ones promised; it stays under 40 MB unpacked.
source "$(dirname "$0")/lib.sh"
command -v buildah >/dev/null || fail "buildah not found (Debian package buildah)"
export BUILDAH_ROOT=$E2E_TMP/buildah
bh() { buildah --storage-driver vfs --root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run" "$@"; }
image=localhost/dripr-e2e:test
start=$SECONDS
"${DRIPR_SOURCE_DIR:?}/deploy/image.sh" "$DRIPR_BIN" "$E2E_TMP/dripr.oci.tar" "$image" >"$E2E_TMP/image.log" 2>&1 \
  || fail "deploy/image.sh: $(cat "$E2E_TMP/image.log")"
cat "$E2E_TMP/image.log"
echo "image built in $((SECONDS - start)) s"
[[ -s $E2E_TMP/dripr.oci.tar ]] || fail "no OCI archive"
listing=$(tar -tf "$E2E_TMP/dripr.oci.tar") || fail "the archive does not read as tar"
grep -qx 'index.json' <<<"$listing" || fail "the archive is not an OCI layout: $listing"

# The configuration.
bh inspect --type image "$image" >"$E2E_TMP/inspect.json" || fail "buildah inspect"
python3 - "$E2E_TMP/inspect.json" <<'PY' || fail "image configuration"
import json, sys
c = json.load(open(sys.argv[1]))["OCIv1"]["config"]
assert c["Entrypoint"] == ["dripr"], c
assert c["Cmd"] == ["data-fetcher"], c
assert c["User"] == "10001:10001", c
assert "DRIPR_DATA_DIR=/usr/local/share/dripr" in c["Env"], c
PY

ctr=$(bh from --quiet "$image") || fail "buildah from"
mnt=$(bh mount "$ctr") || fail "buildah mount"
# Minimal: no shell, the binary, the CA bundle, the zip data; every file a library the
# binary loads or one of those.
[[ ! -e $mnt/bin/sh && ! -e $mnt/usr/bin/sh ]] || fail "the image has a shell"
for f in usr/local/bin/dripr etc/ssl/certs/ca-certificates.crt usr/local/share/dripr/zip_codes.csv; do
  [[ -s $mnt/$f ]] || fail "missing /$f"
done
expected=$( (ldd "$DRIPR_BIN" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
  printf '%s\n' /usr/local/bin/dripr /etc/ssl/certs/ca-certificates.crt /usr/local/share/dripr/zip_codes.csv \
    /etc/passwd /etc/group /etc/nsswitch.conf) | sort -u)
actual=$(cd "$mnt" && find . -type f | sed 's|^\.||' | sort -u)
[[ $expected == "$actual" ]] || fail "unexpected image contents: $(diff <(echo "$expected") <(echo "$actual"))"
size_kb=$(du -sk "$mnt" | cut -f1)
bh umount "$ctr" >/dev/null
echo "image size: $size_kb KiB unpacked, $(du -k "$E2E_TMP/dripr.oci.tar" | cut -f1) KiB OCI archive"
((size_kb < 40 * 1024)) || fail "the image is $size_kb KiB unpacked, over 40 MiB"

# The demo inside the image, as its non-root user.
start=$SECONDS
bh run --isolation chroot --user 10001:10001 "$ctr" -- dripr demo --campaigns 20 >"$E2E_TMP/demo.log" 2>&1 \
  || fail "dripr demo in the image: $(tail -20 "$E2E_TMP/demo.log")"
grep -q '^20/20 campaigns READY_TO_CREATE_EMAIL, 0 ERROR' "$E2E_TMP/demo.log" || fail "demo summary: $(tail -5 "$E2E_TMP/demo.log")"
echo "demo in the image: $((SECONDS - start)) s"
bh rm "$ctr" >/dev/null
echo "PASS"
