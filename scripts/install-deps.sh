#!/bin/sh
# Install the Debian packages twinbox needs to build, test and run its demo.
#
#   scripts/install-deps.sh              install them (as root), or print the
#                                        exact apt-get line to run
#   scripts/install-deps.sh --if-missing do nothing when all are present
#   scripts/install-deps.sh --fuzz       also clang and its fuzzer runtime
#                                        (make fuzz)
#
# Exit status: 0 when everything is present afterwards, 1 otherwise.
set -u

PACKAGES="pkg-config libssl-dev zlib1g-dev check openssl dovecot-core dovecot-imapd"
quiet=0
for arg in "$@"; do
	case "$arg" in
	--if-missing) quiet=1 ;;
	--fuzz) PACKAGES="$PACKAGES clang libclang-rt-14-dev" ;;
	*) echo "install-deps: unknown option '$arg' (--if-missing, --fuzz)" >&2
	   exit 2 ;;
	esac
done

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	[ "$quiet" = 1 ] || echo "install-deps: all packages present:$(printf ' %s' $PACKAGES)"
	exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: this script knows Debian's apt-get only; install the equivalents of:$missing" >&2
	exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing" >&2
	echo "install-deps: run this as root, then run make again:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
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
exit 0
