#!/bin/bash
# A Maildir folder's .uidvalidity lost and made again in the very second
# of the UIDVALIDITY the state records, on a Maildir <-> Maildir channel
# with Expunge Both. Far INBOX holds a and b; the first sync copies them
# near (near UIDVALIDITY T, a second a few seconds ahead, written into
# the near folder's UID file beforehand). Then a mail reader deletes a
# near, the near UID file is lost, and once the clock reads T a run
# starts: the new UID file must not be T again (b is renumbered to a's
# old UID, and taken for a, the run would expunge b on the far side).
# Each case, with and without a kill at the run's first step (the UIDs
# already made anew, the state not yet written) and a clean run after:
# the near UIDVALIDITY is not T, far holds a and b, near holds b and a
# again (a repair by content brings a deleted message back rather than
# lose one), each once, and a dry run plans nothing.
# The run is started just after the clock turned to T, so that it opens
# the folder within that second; a setup that reached T too late (a
# very busy machine) is made again with a later T, at most three times.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

# ids DIR: the local parts of the Message-IDs of a folder, sorted, on one
# line.
ids() {
	cat "$1"/cur/* "$1"/new/* 2>/dev/null |
		sed -n 's/^Message-ID: <\([^@]*\)@.*/\1/p' | sort | tr '\n' ' '
}

# setup DIR T: the channel under DIR synced once, near UIDVALIDITY T,
# then a deleted near and the near UID file removed.
setup() {
	local d=$1 f
	rm -rf "$d"
	mkbox "$d/a/INBOX"
	mkbox "$d/b/INBOX"
	for m in a b; do
		printf 'Subject: %s\nMessage-ID: <%s@uidlost.test>\n\n%s\n' \
			"$m" "$m" "$m" >"$d/a/INBOX/new/$m"
	done
	printf '%s\n0\n' "$2" >"$d/b/INBOX/.uidvalidity"
	{ rc_maildir_pair "$d/a" "$d/b"; echo "Expunge Both"; } >"$d/rc"
	"$BIN" -c "$d/rc" m >"$d/first.out" 2>&1 || return 1
	[ "$(ids "$d/b/INBOX")" = "a b " ] || return 1
	f=$(grep -l '<a@uidlost.test>' "$d"/b/INBOX/cur/* "$d"/b/INBOX/new/* \
		2>/dev/null)
	[ -n "$f" ] && rm "$f" && rm "$d/b/INBOX/.uidvalidity"
}

# reach T: wait until the clock reads T; 1 if it is past T already.
reach() {
	local now
	while now=$(date +%s); [ "$now" -lt "$1" ]; do
		sleep 0.01
	done
	[ "$now" -eq "$1" ]
}

# one_case NAME CRASH: the case above, the run killed at step CRASH (0:
# not killed).
one_case() {
	local d=$TMP/$1 t tries=0 st
	while :; do
		t=$(($(date +%s) + 3))
		if ! setup "$d" "$t"; then
			fail "$1: the first sync" "$(cat "$d/first.out")"
			return
		fi
		reach "$t" && break
		tries=$((tries + 1))
		if [ $tries -ge 3 ]; then
			fail "$1: the clock passed T before the run, three times"
			return
		fi
	done
	if [ "$2" -gt 0 ]; then
		TWINBOX_CRASH_AFTER=$2 "$BIN" -c "$d/rc" m >"$d/crash.out" 2>&1
		expect_eq "$1: the run is killed at step $2" 137 $?
	fi
	"$BIN" -c "$d/rc" m >"$d/run.out" 2>&1
	st=$?
	expect_eq "$1: the run exits 0" 0 "$st"
	[ "$st" -eq 0 ] || cat "$d/run.out" >&2
	if [ "$(head -n 1 "$d/b/INBOX/.uidvalidity")" != "$t" ]; then
		pass "$1: the new near UIDVALIDITY is not the recorded one"
	else
		fail "$1: the new near UIDVALIDITY is not the recorded one" \
			"$(cat "$d/b/INBOX/.uidvalidity")"
	fi
	expect_eq "$1: far holds a and b" "a b " "$(ids "$d/a/INBOX")"
	expect_eq "$1: near holds a and b" "a b " "$(ids "$d/b/INBOX")"
	"$BIN" -y -c "$d/rc" m >"$d/dry.out" 2>&1
	if grep -q "dry run: nothing to do" "$d/dry.out"; then
		pass "$1: a dry run plans nothing"
	else
		fail "$1: a dry run plans nothing" "$(cat "$d/dry.out")"
	fi
}

one_case plain 0
one_case killed 1

echo "maildir_uid_lost: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
