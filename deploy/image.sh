#!/usr/bin/env bash
# Builds dripr's OCI image with buildah (no daemon) and exports it as an OCI archive a
# registry push can take (`skopeo copy oci-archive:FILE docker://REGISTRY/dripr:TAG`).
#
#   deploy/image.sh BINARY OUTPUT.tar [IMAGE_NAME]       (`make image` runs it)
#
# Minimal: the stripped binary, exactly the shared libraries it loads (ldd's closure and the
# ELF interpreter), CA certificates, the zip centroids; no shell, no package manager. Runs as
# the non-root user dripr (uid 10001) in /data; ENTRYPOINT ["dripr"], CMD ["data-fetcher"].
#
# Storage: the vfs driver (works as root in containers and sandboxes where overlay mounts are
# not allowed). BUILDAH_ROOT=DIR keeps the image store under DIR instead of buildah's default
# (tests use a throw-away one).
set -euo pipefail

bin=${1:?usage: deploy/image.sh BINARY OUTPUT.tar [IMAGE_NAME]}
out=${2:?usage: deploy/image.sh BINARY OUTPUT.tar [IMAGE_NAME]}
name=${3:-localhost/dripr:latest}
src=$(cd "$(dirname "$0")/.." && pwd)
command -v buildah >/dev/null || { echo "buildah not found (apt-get install buildah)" >&2; exit 1; }
[[ -x $bin ]] || { echo "not an executable: $bin" >&2; exit 1; }

storage=(--storage-driver vfs)
if [[ -n ${BUILDAH_ROOT:-} ]]; then
  storage+=(--root "$BUILDAH_ROOT/root" --runroot "$BUILDAH_ROOT/run")
fi
bh() { buildah "${storage[@]}" "$@"; }

stage=$(mktemp -d /tmp/dripr-image.XXXXXX)
ctr=""
cleanup() {
  rm -rf "$stage"
  if [[ -n $ctr ]]; then bh rm "$ctr" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

# The root file system, assembled here and copied in as one layer.
root=$stage/rootfs
mkdir -p "$root"/usr/local/bin "$root"/usr/local/share/dripr "$root"/etc/ssl/certs "$root"/tmp
chmod 1777 "$root"/tmp
objcopy --strip-all "$bin" "$root"/usr/local/bin/dripr
# The libraries the dynamic loader resolves for the binary, at the paths it resolves them to.
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u |
  while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
cp /etc/ssl/certs/ca-certificates.crt "$root"/etc/ssl/certs/
cp "$src"/data/zip_codes.csv "$root"/usr/local/share/dripr/
printf 'root:x:0:0:root:/root:/nonexistent\ndripr:x:10001:10001:dripr:/data:/nonexistent\n' >"$root"/etc/passwd
printf 'root:x:0:\ndripr:x:10001:\n' >"$root"/etc/group
printf 'hosts: files dns\n' >"$root"/etc/nsswitch.conf
mkdir -p "$stage"/data

ctr=$(bh from scratch)
bh copy "$ctr" "$root" / >/dev/null
bh copy --chown 10001:10001 "$ctr" "$stage"/data /data >/dev/null
bh config \
  --user 10001:10001 \
  --workingdir /data \
  --env PATH=/usr/local/bin \
  --env DRIPR_DATA_DIR=/usr/local/share/dripr \
  --env DATABASE_URL=sqlite:/data/dripr.db \
  --entrypoint '["dripr"]' \
  --cmd '["data-fetcher"]' \
  --stop-signal SIGTERM \
  --label org.opencontainers.image.title=dripr \
  --label org.opencontainers.image.description="dripr data pipeline: dripr data-fetcher" \
  "$ctr"
bh commit --quiet --format oci --rm "$ctr" "$name" >/dev/null
ctr=""
rm -f "$out"
bh push --quiet "$name" "oci-archive:$out:$name" >/dev/null
echo "image $name: $(du -sk "$root" | cut -f1) KiB unpacked, archive $out $(du -k "$out" | cut -f1) KiB"
