#!/bin/bash
# The interoperability scenarios of tests/e2e/interop.bash against a
# private Courier IMAP (scripts/test-server-courier.sh).
# Run from the top of the tree; tests/run-all.sh runs it with sh.
#
# Courier's logins go through the system's authdaemond and its files in
# /etc/courier, which every instance on the machine shares: the whole
# script holds a lock beside the server script's save (another run of it,
# from a second suite at once, waits), so that the files it reads before
# its first start are the ones its stops must put back, and its instance
# killed before its stop is restored by its own next start, not by
# another run's. flock -o: the daemons it starts do not hold the lock.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
if [ -z "${TWINBOX_COURIER_LOCKED:-}" ]; then
	lock=${TWINBOX_COURIER_SAVE:-/var/lib/twinbox-test/courier-system}.interop.lock
	command -v flock >/dev/null 2>&1 ||
		{ echo "FAIL: flock is missing (Debian package util-linux)" >&2; exit 1; }
	mkdir -p "${lock%/*}" ||
		{ echo "FAIL: ${lock%/*}: cannot create" >&2; exit 1; }
	TWINBOX_COURIER_LOCKED=1 flock -o -w 900 -E 99 "$lock" bash "$0" "$@"
	status=$?
	[ $status -eq 99 ] && echo "FAIL: $lock held by another run for 900 s" >&2
	exit $status
fi
KIND=courier; export KIND
# shellcheck source=tests/e2e/interop.bash
. "$(dirname "$0")/interop.bash"
