#!/usr/bin/env bash
# Makes sure of everything capsule needs to run and be tested on a Debian or
# Ubuntu machine: Deno 2, a reachable Docker engine, a busybox image, capsule's
# static tools for the containers (scripts/build-tools.sh), and (with --test)
# the SSH, SFTP, scp and rsync clients the end-to-end tests drive and a Debian
# test image (capsule-test-debian:latest, built with debootstrap).
#
# Usage: scripts/setup.sh [--test]
# Idempotent: a second run only checks.
set -euo pipefail

want_test_tools=0
[ "${1:-}" = "--test" ] && want_test_tools=1

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# shellcheck source=scripts/_apt.sh
. "$(dirname "${BASH_SOURCE[0]}")/_apt.sh"

# --- Deno -------------------------------------------------------------------
ensure_deno() {
  if command -v deno >/dev/null && deno --version 2>/dev/null | grep -q '^deno 2\.'; then
    return
  fi
  if command -v npm >/dev/null; then
    say "installing Deno 2 from npm"
    npm install -g --silent deno@2 >/dev/null 2>&1 || die "npm install -g deno@2 failed"
  elif command -v curl >/dev/null; then
    say "installing Deno 2 with its install script"
    curl -fsSL https://deno.land/install.sh | sh -s -- -y >/dev/null
    export PATH="$HOME/.deno/bin:$PATH"
  else
    die "Deno 2 is missing and neither npm nor curl is available to install it"
  fi
  hash -r
  command -v deno >/dev/null || die "Deno was installed but is not on PATH"
}

# --- Docker engine ------------------------------------------------------------
engine_up() { docker info >/dev/null 2>&1; }

ensure_docker() {
  if ! command -v docker >/dev/null; then
    apt_install docker.io
  fi
  engine_up && return
  if [ -n "${DOCKER_HOST:-}" ]; then
    die "DOCKER_HOST=$DOCKER_HOST is set but no Docker engine answers there"
  fi
  is_root || die "no Docker engine is reachable at /var/run/docker.sock; start one (sudo systemctl start docker) or add yourself to the docker group"
  if ! command -v dockerd >/dev/null; then
    apt_install docker.io
  fi
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl start docker >/dev/null 2>&1 || true
  fi
  if ! engine_up; then
    say "starting dockerd in the background (log: /tmp/dockerd.log)"
    # In its own session: it must outlive whatever ran this script (a test
    # runner's process group is killed when it ends).
    setsid nohup dockerd >/tmp/dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 60); do
    engine_up && return
    sleep 0.5
  done
  die "dockerd did not come up within 30 s; see /tmp/dockerd.log"
}

# --- busybox image ------------------------------------------------------------
ensure_busybox() {
  docker image inspect busybox:latest >/dev/null 2>&1 && return
  say "pulling busybox:latest"
  if timeout 60 docker pull -q busybox:latest >/dev/null 2>&1; then
    return
  fi
  say "no image registry reachable; building busybox:latest from Debian's busybox-static"
  if ! dpkg -s busybox-static >/dev/null 2>&1; then
    apt_install busybox-static
  fi
  local root
  root=$(mktemp -d)
  trap 'rm -rf "$root"; trap - RETURN' RETURN
  mkdir -p "$root/bin" "$root/etc" "$root/tmp" "$root/root" "$root/home" "$root/proc" "$root/sys" "$root/dev"
  cp /bin/busybox "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/sh"]' - busybox:latest >/dev/null
  docker image inspect busybox:latest >/dev/null 2>&1 || die "building busybox:latest failed"
}

# --- capsule's static tools (sftp-server, scp, rsync, socat) -------------------
# Built once per version of scripts/build-tools.sh and its patches, into
# ${CAPSULE_TOOLS_CACHE:-/var/cache/capsule/tools}; later runs find them at once.
tools_dir=""
ensure_capsule_tools() {
  local here
  here=$(dirname "${BASH_SOURCE[0]}")
  if tools_dir=$(bash "$here/build-tools.sh" --check 2>/dev/null); then
    return
  fi
  say "building capsule's static tools (sftp-server, scp, rsync, socat); the first build takes a minute or two"
  tools_dir=$(bash "$here/build-tools.sh" | tail -n 1) || die "building capsule's tools failed (see above)"
}

# --- test tools -----------------------------------------------------------------
ensure_test_tools() {
  local missing=()
  command -v ssh >/dev/null || missing+=(openssh-client)
  command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v sshpass >/dev/null || missing+=(sshpass)
  command -v socat >/dev/null || missing+=(socat)
  command -v ssh-audit >/dev/null || missing+=(ssh-audit)
  command -v nc >/dev/null || missing+=(netcat-openbsd)
  command -v dbclient >/dev/null || missing+=(dropbear-bin)
  command -v plink >/dev/null || missing+=(putty-tools)
  command -v asciinema >/dev/null || missing+=(asciinema)
  { command -v ps && command -v pgrep; } >/dev/null || missing+=(procps)
  # TOTP codes for tests/e2e/totp_e2e_test.ts.
  command -v oathtool >/dev/null || missing+=(oathtool)
  /usr/bin/python3 -c 'import paramiko' >/dev/null 2>&1 || missing+=(python3-paramiko)
  /usr/bin/python3 -c 'import asyncssh' >/dev/null 2>&1 || missing+=(python3-asyncssh)
  # The SFTP, scp and rsync clients of tests/e2e/sftp_e2e_test.ts.
  command -v sftp >/dev/null || missing+=(openssh-client)
  command -v psftp >/dev/null || missing+=(putty-tools)
  command -v lftp >/dev/null || missing+=(lftp)
  command -v rsync >/dev/null || missing+=(rsync)
  # curl only speaks sftp:// when built with libssh2, as Debian's is.
  { command -v curl >/dev/null && curl -V | grep -qw sftp; } || missing+=(curl)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  # The private registry of tests/e2e/images_e2e_test.ts and the bench's pull
  # part: Debian's registry (started by the tests on a loopback port) and
  # htpasswd for its bcrypt password file.
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  # The other engines of the engine tests (tests/helpers/with_engine.ts): a
  # second dockerd with --tlsverify and certificates made by openssl, and
  # Podman's Docker-compatible service (catatonit is its init for Init: true).
  command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] || missing+=(docker.io)
  command -v openssl >/dev/null || missing+=(openssl)
  # ip (iproute2): the second, TLS dockerd of the tests gets a bridge of its own.
  command -v ip >/dev/null || missing+=(iproute2)
  command -v podman >/dev/null || missing+=(podman)
  [ -x /usr/bin/catatonit ] || [ -x /usr/libexec/podman/catatonit ] || missing+=(catatonit)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  # systemd-analyze verify (packaging's units) and systemd-socket-activate
  # (serve --stdio under an inetd-style launcher).
  { command -v systemd-analyze && command -v systemd-socket-activate; } >/dev/null ||
    missing+=(systemd)
  if [ "${#missing[@]}" -gt 0 ]; then
    # Sorted and unique: openssh-client and putty-tools may be listed twice.
    mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
    apt_install "${missing[@]}"
  fi
  # The package's own service (port 5000) is not wanted: the tests start their
  # registry themselves. Where systemd started it on install, stop it for good.
  if command -v systemctl >/dev/null && systemctl is-enabled docker-registry >/dev/null 2>&1; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
  if command -v curl >/dev/null && ! curl -V | grep -qw sftp; then
    die "this curl has no sftp:// support (Debian's curl, built with libssh2, has it)"
  fi
}

# --- Debian test image ------------------------------------------------------------
# capsule-test-debian:latest: a minimal Debian with the image's own sftp-server,
# scp and rsync, so that the SFTP tests cover both the image's tools and
# capsule's (busybox has none), and with bash, python3 and git, what the IDEs'
# remote set-ups run (tests/e2e/ide_e2e_test.ts). Built once with debootstrap,
# then kept while its label capsule.test-image matches DEBIAN_TEST_IMAGE_VERSION;
# bump that when the package list changes, and the next run rebuilds it.
DEBIAN_TEST_IMAGE=capsule-test-debian:latest
DEBIAN_TEST_IMAGE_VERSION=2
DEBIAN_TEST_SUITE=bookworm
DEBIAN_TEST_PACKAGES=bash,openssh-sftp-server,rsync,openssh-client,python3,git

# The Debian mirror this machine's apt uses (deb822 or one-line sources), else
# deb.debian.org. CAPSULE_DEBIAN_MIRROR overrides it.
debian_mirror() {
  if [ -n "${CAPSULE_DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "$CAPSULE_DEBIAN_MIRROR"
    return
  fi
  local uri=""
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    # The URIs of the first stanza whose suites include the plain suite name.
    uri=$(awk -v suite="$DEBIAN_TEST_SUITE" '
      /^[[:space:]]*$/ { if (uris != "" && hit) { print uris; exit } uris = ""; hit = 0; next }
      /^URIs:/ { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
      END { if (uris != "" && hit) print uris }
    ' /etc/apt/sources.list.d/debian.sources | head -n 1)
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri=$(awk -v suite="$DEBIAN_TEST_SUITE" '
      $1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) == suite) { print $i; exit } }
    ' /etc/apt/sources.list)
  fi
  printf '%s\n' "${uri:-http://deb.debian.org/debian}"
}

# build_debootstrap_image NAME VERSION PACKAGES [slim]: NAME from debootstrap's
# minbase (plus PACKAGES, comma-separated, or none), labelled
# capsule.test-image=VERSION; kept while that label matches. "slim" leaves out
# apt's lists, documentation and translations.
build_debootstrap_image() {
  local image=$1 version=$2 packages=$3 slim=${4:-} have
  have=$(docker image inspect -f '{{index .Config.Labels "capsule.test-image"}}' \
    "$image" 2>/dev/null) || have=absent
  [ "$have" = "$version" ] && return
  [ "$have" = absent ] || say "$image is version '${have:-1}', not $version: rebuilding it"
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || apt_install debootstrap
  is_root || die "building $image needs root (debootstrap)"
  local mirror root started old
  old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) || old=""
  mirror=$(debian_mirror)
  root=$(mktemp -d)
  trap 'rm -rf "$root"; trap - RETURN' RETURN
  started=$(date +%s)
  say "building $image with debootstrap from $mirror (under a minute, once)"
  if ! PATH="$PATH:/usr/sbin:/sbin" debootstrap --variant=minbase \
    ${packages:+--include="$packages"} \
    "$DEBIAN_TEST_SUITE" "$root" "$mirror" >"$root.log" 2>&1; then
    tail -n 20 "$root.log" >&2
    rm -rf "$root" "$root.log"
    die "debootstrap of $DEBIAN_TEST_SUITE from $mirror failed (set CAPSULE_DEBIAN_MIRROR to another mirror)"
  fi
  rm -f "$root.log"
  # Not part of the image: debootstrap's package cache.
  rm -rf "$root"/var/cache/apt/archives/*.deb
  if [ "$slim" = slim ]; then
    rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* \
      "$root"/usr/share/locale/*
  fi
  tar -C "$root" -c . | docker import -c 'CMD ["/bin/bash"]' \
    -c "LABEL capsule.test-image=$version" - "$image" >/dev/null
  have=$(docker image inspect -f '{{index .Config.Labels "capsule.test-image"}}' \
    "$image" 2>/dev/null) || true
  [ "$have" = "$version" ] || die "importing $image failed"
  # The image it replaces, unless a container still uses it.
  [ -z "$old" ] || docker image rm "$old" >/dev/null 2>&1 || true
  say "built $image in $(($(date +%s) - started)) s"
}

ensure_debian_test_image() {
  build_debootstrap_image "$DEBIAN_TEST_IMAGE" "$DEBIAN_TEST_IMAGE_VERSION" "$DEBIAN_TEST_PACKAGES"
}

# capsule-test-minbase:latest: Debian's minbase alone (tens of MB), the image
# tests/e2e/images_e2e_test.ts and the bench push to a private registry and
# have capsule pull.
MINBASE_TEST_IMAGE=capsule-test-minbase:latest
MINBASE_TEST_IMAGE_VERSION=2
ensure_minbase_test_image() {
  build_debootstrap_image "$MINBASE_TEST_IMAGE" "$MINBASE_TEST_IMAGE_VERSION" "" slim
}

# --- promtool: the end-to-end tests check /metrics with `promtool check metrics` --
# Debian ships it inside its prometheus package; only the binary is taken (the
# service is not installed), into ${CAPSULE_PROMTOOL:-/var/cache/capsule/promtool}.
promtool_bin="${CAPSULE_PROMTOOL:-/var/cache/capsule/promtool}"
ensure_promtool() {
  [ -x "$promtool_bin" ] && return
  is_root || die "promtool missing: run this script as root, or put it at $promtool_bin"
  command -v apt-get >/dev/null || die "promtool missing and no apt-get: put it at $promtool_bin"
  local work
  work=$(mktemp -d)
  say "fetching promtool from Debian's prometheus package"
  if ! (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1); then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    (cd "$work" && apt-get download -qq prometheus >/dev/null 2>&1) || die "apt-get download prometheus failed"
  fi
  dpkg -x "$work"/prometheus_*.deb "$work/root"
  mkdir -p "$(dirname "$promtool_bin")"
  install -m 0755 "$work/root/usr/bin/promtool" "$promtool_bin.tmp"
  mv "$promtool_bin.tmp" "$promtool_bin"
  rm -rf "$work"
}

ensure_deno
ensure_docker
ensure_busybox
ensure_capsule_tools
if [ "$want_test_tools" = 1 ]; then
  ensure_test_tools
  ensure_debian_test_image
  ensure_minbase_test_image
  ensure_promtool
fi
say "ready: $(deno --version | head -n1), Docker $(docker version --format '{{.Server.Version}}'), busybox image present, tools in $tools_dir"
