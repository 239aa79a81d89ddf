#!/bin/sh
# Install the Debian packages twinbox needs to build, test and run its demo.
# Run by the developer targets of the Makefile (check, demo, asan,
# valgrind, bench, fuzz), never by make, make build-all or make install,
# which only check with pkg-config (scripts/check-build-deps.sh).
#
#   scripts/install-deps.sh              install them (as root), or print the
#                                        exact apt-get line to run
#   scripts/install-deps.sh --if-missing do nothing when all are present,
#                                        nor on a system without dpkg-query
#                                        and apt-get (the build and the
#                                        tests then name what is missing)
#   scripts/install-deps.sh --fuzz       also clang and its fuzzer runtime
#                                        (make fuzz)
#   scripts/install-deps.sh --servers    also what the tests run (make
#                                        check): clang and its fuzzer
#                                        runtime, python3, mbsync
#                                        (isync), strace, GNU parallel, and the
#                                        interoperability tests' servers:
#                                        mailutils imap4d,
#                                        Cyrus IMAP and Courier IMAP; the
#                                        last two have packages that conflict
#                                        with dovecot-imapd, so only their
#                                        dependencies are installed and the
#                                        two packages themselves downloaded
#                                        and extracted into SERVER_CACHE
#                                        (TWINBOX_SERVER_CACHE, default
#                                        /var/cache/twinbox-test)
#
# Exit status: 0 when everything is present afterwards, 1 otherwise.
set -u

PACKAGES="pkg-config libssl-dev zlib1g-dev check openssl dovecot-core dovecot-imapd"
# Cyrus's and Courier's own packages declare Conflicts: imap-server.
SERVER_PACKAGES="cyrus-common sasl2-bin courier-base courier-authdaemon courier-authlib-userdb mailutils-imap4d"
# GNU parallel: the multi-machine recipe of docs/migration.md, run by
# tests/e2e/migrate_fleet.sh.
SERVER_PACKAGES="$SERVER_PACKAGES parallel"
# The other programs the tests run: clang (tests/e2e/build.sh builds with
# it), python3 (tests/e2e/run_output.sh reads --json with its json
# module, tests/e2e/watch_maildir_gone.sh swaps two directories with
# renameat2(), tests/e2e/imap_random.sh runs its histories in it),
# mbsync 1.4 (tests/e2e/mbsync_adopt.sh switches from it),
# strace (tests/e2e/maildir_lost_rename.sh reads the order of the
# binary's system calls).
SERVER_PACKAGES="$SERVER_PACKAGES clang python3 isync strace"
# make check replays the fuzzers' seeds (tests/fuzz/fuzz.mk, fuzz-replay).
SERVER_PACKAGES="$SERVER_PACKAGES libclang-rt-14-dev"
EXTRACTED="cyrus-imapd:cyrus courier-imap:courier"
SERVER_CACHE=${TWINBOX_SERVER_CACHE:-/var/cache/twinbox-test}
quiet=0
servers=0
for arg in "$@"; do
	case "$arg" in
	--if-missing) quiet=1 ;;
	--fuzz) PACKAGES="$PACKAGES clang libclang-rt-14-dev" ;;
	--servers) PACKAGES="$PACKAGES $SERVER_PACKAGES"; servers=1 ;;
	*) echo "install-deps: unknown option '$arg' (--if-missing, --fuzz, --servers)" >&2
	   exit 2 ;;
	esac
done

# The packages not yet extracted into SERVER_CACHE.
missing_extracted() {
	[ "$servers" = 1 ] || return 0
	for e in $EXTRACTED; do
		[ -e "$SERVER_CACHE/${e#*:}/.extracted" ] || printf ' %s' "$e"
	done
}

# apt-get download, then dpkg-deb -x into a fresh directory that replaces
# the old one only once complete.
extract_servers() {
	todo=$(missing_extracted)
	[ -z "$todo" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: run this as root to download and extract:$todo" >&2
		return 1
	fi
	mkdir -p "$SERVER_CACHE/debs" || return 1
	for e in $todo; do
		pkg=${e%%:*}
		dir=$SERVER_CACHE/${e#*:}
		echo "install-deps: extracting $pkg into $dir"
		rm -f "$SERVER_CACHE/debs/${pkg}_"*.deb
		# Package lists may be missing or stale: update once and retry.
		(cd "$SERVER_CACHE/debs" && apt-get download -q "$pkg" </dev/null) ||
			{ apt-get update -q </dev/null &&
			  (cd "$SERVER_CACHE/debs" && apt-get download -q "$pkg" </dev/null); } ||
			{ echo "install-deps: apt-get download $pkg failed" >&2; return 1; }
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp" &&
			dpkg-deb -x "$SERVER_CACHE/debs/${pkg}_"*.deb "$dir.tmp" &&
			touch "$dir.tmp/.extracted" && rm -rf "$dir" &&
			mv "$dir.tmp" "$dir" ||
			{ echo "install-deps: cannot extract $pkg into $dir" >&2; return 1; }
	done
}

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	if [ "$quiet" = 1 ]; then
		echo "install-deps: no dpkg-query and apt-get, nothing installed;" \
			"the build and the tests name what they miss" >&2
		exit 0
	fi
	echo "install-deps: this script knows Debian's apt-get only; install the equivalents of: $PACKAGES" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ] && [ -z "$(missing_extracted)" ]; then
	[ "$quiet" = 1 ] || echo "install-deps: all packages present:$(printf ' %s' $PACKAGES)"
	exit 0
fi
if [ -z "$missing" ]; then
	extract_servers
	exit $?
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing$(missing_extracted)" >&2
	echo "install-deps: run this script as root, then run make again" >&2
	exit 1
fi

echo "install-deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Do not let the packages' maintainer scripts start the system's Dovecot:
# the tests run their own private instance and never touch the system one.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	remove_policy=1
else
	remove_policy=0
fi
rc=0
apt-get update -q </dev/null || rc=1
[ $rc -eq 0 ] && { apt-get install -y -q --no-install-recommends $missing </dev/null || rc=1; }
[ $remove_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
if [ $rc -ne 0 ]; then
	echo "install-deps: apt-get failed; the command was: apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
extract_servers
