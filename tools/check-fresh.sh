#!/usr/bin/env bash
# The clean-root check: do the README's set-up commands work on a machine that has never seen
# moescope? Builds (once, then cached) a minimal Debian 12 root with debootstrap from the mirror in
# this machine's own apt sources, copies into a fresh copy of it a clean checkout (`git archive HEAD`:
# committed files only) and ../shared, and runs there, under chroot, the README's test command
# (`bash tools/test.sh`: install the packages, build, run every test) and then its main command
# (`bash tools/run.sh`, which without a display shows moescope-cli). Prints each step's time and
# the result; exits with the failing command's status.
#
#   tools/check-fresh.sh [--test-only] [--keep] [--fresh-base]
#     --test-only    run only the test command (not the main command after it)
#     --keep         leave the root in place afterwards (its path is printed) to look around
#     --fresh-base   rebuild the cached base root first
#   MOESCOPE_FRESH_CACHE   where the base root and downloaded .deb files are kept between runs
#                          (default /var/cache/moescope-fresh)
#   MOESCOPE_FRESH_WORK    where the per-run root is made (default /var/tmp; needs ~6 GB free)
#
# What is cached: the debootstrap base (minbase: no moescope package in it) and apt's downloaded
# .deb files (a bind mount over the root's /var/cache/apt/archives). Every run installs every
# package into a new copy of the base, so a package missing from tools/install-deps.sh fails here.
# Needs root (debootstrap, chroot, mount), debootstrap (installed here when missing) and network
# access to the Debian mirror and the Python package index (the Python package's tests; a local
# certificate authority of this machine, e.g. a TLS-re-signing proxy's, is trusted in the root
# too). The CUDA toolkit is not a Debian package: the clean root checks the CPU build, as a new
# user without CUDA gets it.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
shared=$(realpath -m "$repo/../shared")  # resolved: ../shared may be a symbolic link
suite=bookworm
cache=${MOESCOPE_FRESH_CACHE:-/var/cache/moescope-fresh}
work_parent=${MOESCOPE_FRESH_WORK:-/var/tmp}
run_main=1 keep=0 fresh_base=0
for a in "$@"; do
  case $a in
    --test-only) run_main=0 ;;
    --keep) keep=1 ;;
    --fresh-base) fresh_base=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "check-fresh: unknown option '$a' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "check-fresh: $*"; }
die() { echo "check-fresh: error: $*" >&2; exit 1; }
start=$SECONDS
step_start=$SECONDS
step() { say "$1 ($((SECONDS - step_start)) s)"; step_start=$SECONDS; }

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot and bind mounts); run it with sudo"
[ -d "$shared" ] || die "$shared not found: the shared oracles and docs are expected beside the checkout"
git -C "$repo" rev-parse --verify -q HEAD >/dev/null || die "$repo is not a git checkout with a commit"
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
  say "note: uncommitted changes in $repo are not checked (the root gets 'git archive HEAD')"
fi
commit=$(git -C "$repo" rev-parse --short HEAD)

# The mirror this machine's apt uses for Debian itself (deb822 .sources first, then sources.list).
mirror=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  mirror=$(awk 'BEGIN{RS=""} /Suites:[^\n]*'"$suite"'([ \n]|$)/ && !/security/ {
                  if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u=substr($0, RSTART, RLENGTH); sub(/URIs:[ \t]*/, "", u); print u; exit } }' "$f")
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $3 == "'"$suite"'" { print $2; exit }' /etc/apt/sources.list)
fi
# Cloud images name a mirror list (mirror+file:///etc/apt/mirrors/debian.list), which debootstrap
# cannot read: take the list's first mirror.
case $mirror in
  mirror+file://*)
    list=${mirror#mirror+file://}
    mirror=$(grep -Eo '^[a-z]+://[^[:space:]]+' "$list" 2>/dev/null | head -n 1 || true) ;;
  mirror+*) mirror="" ;;
esac
if [ -z "$mirror" ]; then
  mirror=http://deb.debian.org/debian
  say "note: no usable '$suite' mirror in this machine's apt sources; using $mirror"
fi
say "commit $commit, Debian $suite from $mirror"

if ! command -v debootstrap >/dev/null; then
  say "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

# 1. The base root, cached. Built beside its final name and renamed, so an interrupted debootstrap
#    never leaves a half-made base that a later run would take for a good one.
mkdir -p "$cache/apt-archives/partial" "$work_parent"
# Absolute, symlink-free paths: the mount and process checks below compare them with the kernel's.
cache=$(realpath "$cache")
work_parent=$(realpath "$work_parent")
base=$cache/base-$suite
if [ "$fresh_base" -eq 1 ] || [ ! -f "$base/.moescope-base-ok" ]; then
  rm -rf --one-file-system "$base" "$base.tmp"
  say "building the base root with debootstrap --variant=minbase (a few minutes, once)"
  debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    die "debootstrap failed; its log: $cache/debootstrap.log"
  rm -rf --one-file-system "$base.tmp/var/cache/apt/archives"/*.deb
  echo "$suite $mirror $(date -u +%FT%TZ)" >"$base.tmp/.moescope-base-ok"
  mv "$base.tmp" "$base"
  step "base root built"
else
  say "base root cached in $base ($(cat "$base/.moescope-base-ok"))"
fi

# 2. This run's root: a copy of the base, the checkout and ../shared at /work/{main,shared}.
work=$(mktemp -d "$work_parent/moescope-fresh.XXXXXX")
root=$work/root
mounted=()

unmount_all() {
  # Processes left inside the root (a test's Xvfb, an mpirun daemon) would keep the mounts busy.
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -9 "${p#/proc/}" 2>/dev/null || true
  done
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -R "${mounted[$i]}" 2>/dev/null || umount -R -l "${mounted[$i]}" 2>/dev/null || true
  done
  mounted=()
}

mounted_under_root() {  # true while anything is mounted at or below $root
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 { found = 1 } END { exit !found }' /proc/self/mounts
}

cleanup() {
  local status=$?
  set +e
  unmount_all
  if [ "$keep" -eq 1 ]; then
    say "root kept at $root (chroot $root /bin/bash; remove with rm -rf --one-file-system $work)"
  elif mounted_under_root; then
    say "warning: something is still mounted under $root; not removing $work"
  else
    rm -rf --one-file-system "$work"
  fi
  return $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp -a "$base" "$root"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# The network's trust, like its resolver: certificate authorities this machine adds locally (a
# proxy that re-signs TLS, as this machine's egress does) are trusted in the root too, once the
# test command installs ca-certificates (update-ca-certificates reads this folder). No package
# comes with them: the root still installs everything itself.
if compgen -G "/usr/local/share/ca-certificates/*.crt" > /dev/null; then
  mkdir -p "$root/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi
mkdir -p "$root/work/main"
git -C "$repo" archive HEAD | tar -x -C "$root/work/main"
mkdir -p "$root/work/shared"
cp -a "$shared/." "$root/work/shared/"
step "root prepared at $root (commit $commit, ../shared copied)"

bind() {  # bind SRC DST: mounted now, unmounted by cleanup on any exit
  mkdir -p "$2"
  mounted+=("$2")
  mount --rbind "$1" "$2"
  mount --make-rslave "$2"
}
bind /proc "$root/proc"
bind /dev "$root/dev"
bind "$cache/apt-archives" "$root/var/cache/apt/archives"

in_root() {  # in_root NAME COMMAND: runs COMMAND in /work/main of the root with a clean environment
  local name=$1 cmd=$2 status=0
  say "running the README's $name: $cmd"
  chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    TERM=dumb LANG=C.UTF-8 /bin/bash -c "cd /work/main && $cmd" || status=$?
  if [ $status -ne 0 ]; then
    step "FAILED: $name exited with $status"
    say "result: FAIL ($name, exit $status) after $((SECONDS - start)) s"
    exit $status
  fi
  step "$name passed"
}

in_root "test command" "bash tools/test.sh"
[ "$run_main" -eq 1 ] && in_root "main command (no display here)" "bash tools/run.sh"
say "result: PASS after $((SECONDS - start)) s (commit $commit, Debian $suite minbase + tools/install-deps.sh)"
