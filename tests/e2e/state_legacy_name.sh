#!/bin/bash
# A twinbox state file under the name twinbox used before it ended these
# names in .twinboxstate (the SyncState prefix form, here the default
# ~/.local/state/twinbox/ with HOME in the test directory) is still the
# pair's state: a Maildir <-> Maildir channel is synced, its state file
# renamed back to the old name (no .twinboxstate), a message deleted on
# the near side; then
#  - a dry run plans the deletion on far, not a copy back, and renames
#    nothing;
#  - the run deletes the message on far too, does not bring it back near,
#    and leaves the state under the current name only;
#  - a second run has nothing to do.
# The same with FieldDelimiter ';', which that twinbox ignored: its file
# is named with ':'.
# Run from the top of the tree; tests/run-all.sh runs it.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

count() {
	grep -rl "Message-ID: <$2@" "$1/cur" "$1/new" 2>/dev/null | wc -l
}

# one NAME [FIELD_DELIMITER]: a pair of its own, HOME in TMP/NAME.
one() {
	local d=$TMP/$1 sdir st
	export HOME=$d/home
	unset XDG_STATE_HOME
	mkdir -p "$HOME"
	mkbox "$d/far"
	mkbox "$d/near"
	for id in m1 m2 m3; do
		printf 'From: a@example.org\nSubject: %s\nMessage-ID: <%s@legacy.test>\n\nbody\n' \
			"$id" "$id" >"$d/far/cur/1700000000.$id.host${2:-:}2,S"
	done
	cat >"$d/sync.rc" <<RC
FSync no
${2:+FieldDelimiter $2}

MaildirStore far
Path $d/far/
Inbox $d/far

MaildirStore near
Path $d/near/
Inbox $d/near

Channel c
Far :far:
Near :near:
Patterns INBOX
Expunge Both
Sync All
RC
	twinbox() {
		local name=$1
		shift
		timeout 60 "$BIN" -c "$d/sync.rc" "$@" c >"$d/$name.out" 2>&1
		echo $?
	}

	sdir=$HOME/.local/state/twinbox
	expect_eq "$1: first run" 0 "$(twinbox 1)"
	expect_eq "$1: state under the current name" 1 \
		"$(find "$sdir" -name '*.twinboxstate' | wc -l)"
	# The name that twinbox gave it: no ending, ':' between the fields.
	st=$(find "$sdir" -name '*.twinboxstate')
	mv "$st" "$sdir/$(basename "${st%.twinboxstate}" | tr "${2:-:}" :)"
	rm -f "$(grep -rl 'Message-ID: <m2@' "$d/near/cur" "$d/near/new")"

	expect_eq "$1: dry run" 0 "$(twinbox 2 --dry-run -V)"
	expect_eq "$1: the dry run copies nothing back" 0 \
		"$(grep -ci 'copy' "$d/2.out")"
	expect_eq "$1: the dry run renames nothing" "" \
		"$(find "$sdir" -name '*.twinboxstate')"
	expect_eq "$1: run after the deletion" 0 "$(twinbox 3)"
	expect_eq "$1: m2 deleted on far" 0 "$(count "$d/far" m2)"
	expect_eq "$1: m2 not brought back near" 0 "$(count "$d/near" m2)"
	expect_eq "$1: m1 and m3 kept on both sides" "1 1 1 1" \
		"$(count "$d/far" m1) $(count "$d/far" m3) $(count "$d/near" m1) $(count "$d/near" m3)"
	expect_eq "$1: state under the current name only" "1 0" \
		"$(find "$sdir" -name '*.twinboxstate' | wc -l) $(find "$sdir" -type f ! -name '*.twinboxstate*' | wc -l)"
	expect_eq "$1: second run" 0 "$(twinbox 4 -V)"
	expect_eq "$1: then nothing to do" 1 "$(grep -c 'up to date' "$d/4.out")"
}

one plain
one delimiter ";"

echo "state_legacy_name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
