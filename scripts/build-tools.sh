#!/usr/bin/env bash
# Builds the static tools capsule mounts read-only at /.capsule in every
# session container (sftp-server, scp, rsync, socat), so that SFTP, legacy scp,
# rsync and port forwarding work in any image, busybox included, plus
# capsule's own relay for remote and agent forwarding (tools/relay).
#
# The third-party tools come from Debian bookworm source packages at pinned
# versions, built with musl and linked statically, patched by
# tools/patches/*.patch; capsule-relay is built from tools/relay the same way.
# The result lands in ${CAPSULE_TOOLS_CACHE:-/var/cache/capsule/tools}/<key>/
# (bin/, LICENSES/, MANIFEST), where <key> hashes this script, the patches and
# the pinned versions; ${CAPSULE_TOOLS_CACHE}/current points at it. A complete
# directory for the key is reused at once. The directory's path is the last
# line printed on stdout; logs go to stderr.
#
# Usage: scripts/build-tools.sh [--check]
#   --check  only tell whether the build for this key is there: print its
#            path and exit 0, or exit 1 (nothing is built)
# Needs root for apt-get on the first run (build dependencies). Verifies the
# binaries in a busybox container when a Docker engine answers.
set -euo pipefail

check_only=0
case "${1:-}" in
  "") ;;
  --check) check_only=1 ;;
  *)
    printf 'usage: scripts/build-tools.sh [--check]\n' >&2
    exit 2
    ;;
esac

# Debian bookworm source versions, each tested with this script.
OPENSSH_VERSION="1:9.2p1-2+deb12u10"
RSYNC_VERSION="3.2.7-1+deb12u6"
SOCAT_VERSION="1.7.4.4-2"

TOOLS=(sftp-server scp rsync socat capsule-relay)
VERIFY_UID="1234:1234"
VERIFY_IMAGE="busybox:latest"

say() { printf 'build-tools: %s\n' "$*" >&2; }
die() {
  printf 'build-tools: error: %s\n' "$*" >&2
  exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
script="$repo/scripts/build-tools.sh"
patches="$repo/tools/patches"
relay_source="$repo/tools/relay/capsule-relay.c"
cache=$(realpath -m "${CAPSULE_TOOLS_CACHE:-/var/cache/capsule/tools}")

# --- the cache key and the fast path --------------------------------------------
cache_key() {
  {
    printf 'arch %s\n' "$(uname -m)"
    printf 'openssh %s\nrsync %s\nsocat %s\n' "$OPENSSH_VERSION" "$RSYNC_VERSION" "$SOCAT_VERSION"
    printf '== %s\n' "$(basename "$script")"
    cat "$script"
    printf '== %s\n' "$(basename "$relay_source")"
    cat "$relay_source"
    local p
    for p in "$patches"/*.patch; do
      printf '== %s\n' "$(basename "$p")"
      cat "$p"
    done
  } | sha256sum | cut -c1-16
}

is_complete() {
  local dir=$1 tool
  [ -f "$dir/MANIFEST" ] || return 1
  for tool in "${TOOLS[@]}"; do
    [ -x "$dir/bin/$tool" ] || return 1
  done
}

point_current() {
  local link="$cache/current"
  [ "$(readlink "$link" 2>/dev/null || true)" = "$key" ] && return
  ln -sfn "$key" "$cache/.current.$$"
  mv -Tf "$cache/.current.$$" "$link"
}

key=$(cache_key)
target="$cache/$key"
if is_complete "$target"; then
  [ -w "$cache" ] && point_current
  printf '%s\n' "$target"
  exit 0
fi
[ "$check_only" = 1 ] && exit 1

# --- build dependencies -----------------------------------------------------------
# shellcheck source=scripts/_apt.sh
. "$repo/scripts/_apt.sh"

engine_up() { command -v docker >/dev/null && docker info >/dev/null 2>&1; }

ensure_build_deps() {
  local missing=()
  command -v musl-gcc >/dev/null || missing+=(musl-tools)
  command -v gcc >/dev/null || missing+=(gcc)
  command -v make >/dev/null || missing+=(make)
  command -v patch >/dev/null || missing+=(patch)
  command -v strip >/dev/null || missing+=(binutils)
  command -v dpkg-source >/dev/null || missing+=(dpkg-dev)
  command -v xz >/dev/null || missing+=(xz-utils)
  command -v file >/dev/null || missing+=(file)
  command -v flock >/dev/null || missing+=(util-linux)
  [ -f /usr/include/linux/openat2.h ] || missing+=(linux-libc-dev)
  if engine_up; then
    # The clients that drive the binaries in the verification.
    command -v sftp >/dev/null && command -v scp >/dev/null || missing+=(openssh-client)
    command -v rsync >/dev/null || missing+=(rsync)
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
}

# --- one build at a time per cache ------------------------------------------------
mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] ||
  die "cannot write the tools cache \"$cache\" (run as root, or set CAPSULE_TOOLS_CACHE to a writable directory)"
ensure_build_deps
exec 9>"$cache/.lock"
flock 9
if is_complete "$target"; then # another run finished it while we waited
  point_current
  printf '%s\n' "$target"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/capsule-tools.XXXXXX")
cleanup() { rm -rf "$work" "$cache/.staging.$$"; }
trap cleanup EXIT
logs="$work/logs"
mkdir -p "$logs"

# run_logged NAME CMD...: runs CMD with its output in a log, shown when it fails.
run_logged() {
  local name=$1
  shift
  if ! "$@" >"$logs/$name.log" 2>&1; then
    tail -n 40 "$logs/$name.log" >&2
    die "$name failed (last lines of its log above)"
  fi
}

# --- Debian source packages, through a private apt configuration -------------------
# A deb-src copy of the system's Debian sources in $work/apt, so that the
# system's own apt lists and caches are left as they are.
fetch_sources() {
  local apt="$work/apt"
  mkdir -p "$apt/sources.list.d" "$apt/lists/partial" "$apt/cache/archives/partial"
  : >"$apt/sources.list"
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      >"$apt/sources.list.d/debian.sources"
  elif [ -f /etc/apt/sources.list ]; then
    sed -nE 's/^deb[[:space:]]+/deb-src /p' /etc/apt/sources.list >"$apt/sources.list"
  else
    die "no Debian apt sources found (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list)"
  fi
  apt_opts=(
    -o "Dir::Etc::sourcelist=$apt/sources.list"
    -o "Dir::Etc::sourceparts=$apt/sources.list.d"
    -o "Dir::State::Lists=$apt/lists"
    -o "Dir::Cache=$apt/cache"
    -o "APT::Sandbox::User=root"
  )
  say "fetching the Debian source indexes"
  run_logged apt-get-update apt-get "${apt_opts[@]}" update
  mkdir -p "$work/src" "$work/build"
  local pkg version served
  for pkg in openssh rsync socat; do
    case $pkg in
      openssh) version=$OPENSSH_VERSION ;;
      rsync) version=$RSYNC_VERSION ;;
      socat) version=$SOCAT_VERSION ;;
    esac
    served=$(apt-cache "${apt_opts[@]}" showsrc "$pkg" 2>/dev/null || true)
    if ! grep -qxF "Version: $version" <<<"$served" ||
      ! (cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only "$pkg=$version" \
        >"$logs/source-$pkg.log" 2>&1); then
      die "the Debian mirror does not serve source package \"$pkg\" version \"$version\" (any more); test the version it serves (apt-cache showsrc $pkg) and update the pin at the top of scripts/build-tools.sh"
    fi
    say "unpacking $pkg $version"
    run_logged "unpack-$pkg" dpkg-source -x "$work/src/${pkg}_${version#*:}.dsc" "$work/build/$pkg"
  done
}

# --- the builds -------------------------------------------------------------------
# musl-gcc sees only musl's headers; rsync and socat also need the kernel's
# (linux/openat2.h, linux/vm_sockets.h...), which are libc-independent.
kernel_headers() {
  local dir="$work/kernel-include" multiarch
  multiarch=$(gcc -dumpmachine)
  mkdir -p "$dir"
  ln -sfn /usr/include/linux "$dir/linux"
  ln -sfn /usr/include/asm-generic "$dir/asm-generic"
  ln -sfn "/usr/include/$multiarch/asm" "$dir/asm"
  printf '%s' "$dir"
}

# Pins __DATE__/__TIME__ (socat prints them) to the Debian changelog's date,
# as Debian's own builds do, so that a rebuild gives the same bytes.
use_changelog_date() {
  SOURCE_DATE_EPOCH=$(dpkg-parsechangelog -l "$1/debian/changelog" -S Timestamp)
  export SOURCE_DATE_EPOCH
}

build_openssh() {
  local dir="$work/build/openssh" p
  use_changelog_date "$dir"
  say "building sftp-server and scp (OpenSSH $OPENSSH_VERSION)"
  for p in "$patches"/openssh-*.patch; do
    run_logged "patch-$(basename "$p" .patch)" patch -d "$dir" -p1 --no-backup-if-mismatch -i "$p"
  done
  touch "$dir/configure"
  run_logged openssh-configure env -C "$dir" CC=musl-gcc LDFLAGS=-static ./configure \
    --without-openssl --without-zlib --without-pam --without-selinux --without-libedit \
    --without-kerberos5 --disable-security-key --without-audit --without-ldns
  run_logged openssh-make make -C "$dir" -j2 sftp-server scp
  cp "$dir/sftp-server" "$dir/scp" "$stage/bin/"
  cp "$dir/LICENCE" "$stage/LICENSES/openssh-LICENCE"
}

build_rsync() {
  local dir="$work/build/rsync"
  use_changelog_date "$dir"
  say "building rsync ($RSYNC_VERSION)"
  # Debian's patches change configure.ac; only its xattr checks differ from the
  # shipped configure, and xattr support is off here: no autoconf run needed.
  touch "$dir/configure.sh" "$dir/config.h.in"
  run_logged rsync-configure env -C "$dir" CC=musl-gcc CPPFLAGS="-isystem $kinc" LDFLAGS=-static \
    ./configure --disable-openssl --disable-xxhash --disable-zstd --disable-lz4 --disable-md2man \
    --disable-acl-support --disable-xattr-support --disable-iconv --disable-locale \
    --with-included-zlib --with-included-popt
  run_logged rsync-make make -C "$dir" -j2 rsync
  cp "$dir/rsync" "$stage/bin/"
  cp "$dir/COPYING" "$stage/LICENSES/rsync-COPYING"
  cp "$dir/zlib/README" "$stage/LICENSES/rsync-zlib-README"
  cp "$dir/popt/COPYING" "$stage/LICENSES/rsync-popt-COPYING"
}

build_socat() {
  local dir="$work/build/socat"
  use_changelog_date "$dir"
  say "building socat ($SOCAT_VERSION)"
  touch "$dir/configure"
  run_logged socat-configure env -C "$dir" CC=musl-gcc CPPFLAGS="-isystem $kinc" LDFLAGS=-static \
    ./configure --disable-openssl --disable-readline --disable-libwrap
  run_logged socat-make make -C "$dir" -j2 socat
  cp "$dir/socat" "$stage/bin/"
  cp "$dir/COPYING" "$stage/LICENSES/socat-COPYING"
}

build_relay() {
  say "building capsule-relay (tools/relay)"
  run_logged relay-build musl-gcc -static -O2 -Wall -Werror -o "$stage/bin/capsule-relay" "$relay_source"
}

# --- verification -------------------------------------------------------------------
verify_static() {
  local tool desc
  for tool in "${TOOLS[@]}"; do
    desc=$(file -b "$stage/bin/$tool")
    case $desc in
      *"statically linked"* | *"static-pie linked"*) ;;
      *) die "\"$tool\" is not a static executable: $desc" ;;
    esac
  done
  say "all binaries are static"
}

# Runs each binary in busybox as a uid without a passwd entry, and drives
# sftp-server, scp -t/-f and rsync --server with the real OpenSSH and rsync
# clients through a stand-in for ssh that starts the container.
verify_in_busybox() {
  if ! engine_up; then
    say "no Docker engine reachable: skipping the busybox checks"
    return
  fi
  if ! docker image inspect "$VERIFY_IMAGE" >/dev/null 2>&1; then
    say "no $VERIFY_IMAGE image (scripts/setup.sh builds it): skipping the busybox checks"
    return
  fi
  local v="$work/verify"
  local data="$v/data"
  mkdir -p "$v/local" "$data/tree/sub"
  chmod 0777 "$data"
  local run=(docker run -i --rm --network none --user "$VERIFY_UID" -e PATH=/.capsule/bin:/bin
    -v "$stage:/.capsule:ro" -v "$data:/data" "$VERIFY_IMAGE")

  run_logged verify-versions "${run[@]}" sh -c \
    '/.capsule/bin/rsync --version && /.capsule/bin/socat -V &&
     { /.capsule/bin/sftp-server -h 2>&1 | grep -q usage; } &&
     { /.capsule/bin/scp 2>&1 | grep -q usage; } &&
     echo relayed | /.capsule/bin/socat - EXEC:cat | grep -qx relayed &&
     /.capsule/bin/capsule-relay tcp 127.0.0.1 0 </dev/null | od -c | grep -q L'

  # A stand-in for ssh: skips the options and the host name, runs the remote
  # command in a fresh container.
  printf '#!/usr/bin/env bash\nwhile [ $# -gt 0 ] && [ "$1" != capsule-verify ]; do shift; done\nshift\nexec %s sh -c "$*"\n' \
    "$(printf '%q ' "${run[@]}")" >"$v/fake-ssh"
  chmod +x "$v/fake-ssh"

  head -c 200000 /dev/urandom >"$v/local/payload"
  printf 'nested\n' >"$data/tree/sub/file"

  # SFTP: put, ls, get in one session.
  run_logged verify-sftp sftp -b - -D "$(printf '%q ' "${run[@]}") /.capsule/bin/sftp-server" <<EOF
cd /data
put $v/local/payload sftp-up
ls -l
get sftp-up $v/local/sftp-down
EOF
  cmp -s "$v/local/payload" "$data/sftp-up" || die "sftp put did not arrive intact"
  cmp -s "$v/local/payload" "$v/local/sftp-down" || die "sftp get did not return the file intact"
  say "sftp-server serves put/ls/get as uid $VERIFY_UID without a passwd entry"

  # Legacy scp: scp -t (upload) and scp -f (download).
  run_logged verify-scp-t scp -O -S "$v/fake-ssh" "$v/local/payload" capsule-verify:/data/scp-up
  run_logged verify-scp-f scp -O -S "$v/fake-ssh" capsule-verify:/data/scp-up "$v/local/scp-down"
  cmp -s "$v/local/payload" "$data/scp-up" || die "scp -t did not receive the file intact"
  cmp -s "$v/local/payload" "$v/local/scp-down" || die "scp -f did not send the file intact"
  say "scp -t/-f work as uid $VERIFY_UID"

  # rsync --server, both directions.
  cp "$v/local/payload" "$data/tree/payload"
  run_logged verify-rsync-pull rsync -a --rsh="$v/fake-ssh" --rsync-path=/.capsule/bin/rsync \
    capsule-verify:/data/tree/ "$v/local/tree/"
  run_logged verify-rsync-push rsync -a --rsh="$v/fake-ssh" --rsync-path=/.capsule/bin/rsync \
    "$v/local/tree/" capsule-verify:/data/tree-back/
  diff -r "$data/tree" "$v/local/tree" >/dev/null || die "rsync pull did not copy the tree intact"
  diff -r "$data/tree" "$data/tree-back" >/dev/null || die "rsync push did not copy the tree intact"
  say "rsync --server pulls and pushes as uid $VERIFY_UID"
  # Lets a non-root caller remove what the container's uid wrote.
  "${run[@]}" chmod -R a+rwX /data >/dev/null 2>&1 || true
}

# --- main ---------------------------------------------------------------------------
started=$SECONDS
fetch_sources
kinc=$(kernel_headers)
stage="$cache/.staging.$$"
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/LICENSES"
chmod 0755 "$stage" "$stage/bin" "$stage/LICENSES"
build_openssh
build_rsync
build_socat
build_relay
# musl is linked into every binary; Debian's copyright file carries its licence.
if [ -f /usr/share/doc/musl/copyright ]; then
  cp /usr/share/doc/musl/copyright "$stage/LICENSES/musl-copyright"
else
  say "no /usr/share/doc/musl/copyright on this machine: shipping the committed copy"
  cp "$repo/tools/LICENSES/musl-copyright" "$stage/LICENSES/musl-copyright"
fi
strip --strip-all "${TOOLS[@]/#/$stage/bin/}"
chmod 0755 "${TOOLS[@]/#/$stage/bin/}"
verify_static
verify_in_busybox

for license in "$stage"/LICENSES/*; do
  cmp -s "$license" "$repo/tools/LICENSES/$(basename "$license")" ||
    say "warning: tools/LICENSES/$(basename "$license") differs from the one built; update the committed copy"
done

musl_version=$(dpkg-query -W -f '${Version}' musl-dev 2>/dev/null || echo unknown)
{
  printf '# capsule tools, built by scripts/build-tools.sh (key %s)\n' "$key"
  printf '# arch %s, musl %s, built %s\n' "$(uname -m)" "$musl_version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf '# name\tdebian-source\tversion\tsha256\n'
  for tool in "${TOOLS[@]}"; do
    case $tool in
      sftp-server | scp) src="openssh $OPENSSH_VERSION" ;;
      rsync) src="rsync $RSYNC_VERSION" ;;
      socat) src="socat $SOCAT_VERSION" ;;
      capsule-relay) src="capsule tools/relay" ;;
    esac
    printf '%s\t%s\t%s\n' "$tool" "${src/ /$'\t'}" "$(sha256sum "$stage/bin/$tool" | cut -d' ' -f1)"
  done
} >"$stage/MANIFEST"

rm -rf "$target"
mv -T "$stage" "$target"
point_current
say "built in $((SECONDS - started)) s: $(du -sh "$target/bin" | cut -f1) of binaries"
printf '%s\n' "$target"
