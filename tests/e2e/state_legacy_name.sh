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
# Run from the top of the tree; tests/run-all.sh runs it.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

export HOME=$TMP/home
unset XDG_STATE_HOME
mkdir -p "$HOME"
mkbox "$TMP/far"
mkbox "$TMP/near"
for id in m1 m2 m3; do
	printf 'From: a@example.org\nSubject: %s\nMessage-ID: <%s@legacy.test>\n\nbody\n' \
		"$id" "$id" >"$TMP/far/cur/1700000000.$id.host:2,S"
done
cat >"$TMP/sync.rc" <<RC
FSync no

MaildirStore far
Path $TMP/far/
Inbox $TMP/far

MaildirStore near
Path $TMP/near/
Inbox $TMP/near

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
	timeout 60 "$BIN" -c "$TMP/sync.rc" "$@" c >"$TMP/$name.out" 2>&1
	echo $?
}

count() {
	grep -rl "Message-ID: <$2@" "$1/cur" "$1/new" 2>/dev/null | wc -l
}

sdir=$HOME/.local/state/twinbox
expect_eq "first run" 0 "$(twinbox 1)"
expect_eq "state under the current name" 1 \
	"$(find "$sdir" -name '*.twinboxstate' | wc -l)"
st=$(find "$sdir" -name '*.twinboxstate')
mv "$st" "${st%.twinboxstate}"
rm -f "$(grep -rl 'Message-ID: <m2@' "$TMP/near/cur")"

expect_eq "dry run" 0 "$(twinbox 2 --dry-run -V)"
expect_eq "the dry run copies nothing back" 0 \
	"$(grep -ci 'copy' "$TMP/2.out")"
expect_eq "the dry run renames nothing" "" \
	"$(find "$sdir" -name '*.twinboxstate')"
expect_eq "run after the deletion" 0 "$(twinbox 3)"
expect_eq "m2 deleted on far" 0 "$(count "$TMP/far" m2)"
expect_eq "m2 not brought back near" 0 "$(count "$TMP/near" m2)"
expect_eq "m1 and m3 kept on both sides" "1 1 1 1" \
	"$(count "$TMP/far" m1) $(count "$TMP/far" m3) $(count "$TMP/near" m1) $(count "$TMP/near" m3)"
expect_eq "state under the current name only" "1 0" \
	"$(find "$sdir" -name '*.twinboxstate' | wc -l) $(find "$sdir" -type f ! -name '*.twinboxstate*' | wc -l)"
expect_eq "second run" 0 "$(twinbox 4)"
expect_eq "then nothing to do" 1 "$(grep -c 'up to date' "$TMP/4.out")"

echo "state_legacy_name: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
