# Sourced by scripts/setup.sh and scripts/build-tools.sh: installs Debian
# packages, running `apt-get update` once first. The caller defines say and die.
apt_updated=0
apt_install() {
  [ "$(id -u)" = 0 ] || die "missing Debian packages: $* (run this script as root, or: sudo apt-get install -y $*)"
  command -v apt-get >/dev/null || die "missing: $* (no apt-get on this machine; install them by hand)"
  if [ "$apt_updated" = 0 ]; then
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  say "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
