#!/bin/bash
# mbsync's state kept with SyncState * (.mbsyncstate in the near folder)
# is adopted when the near MaildirStore has Flatten: the state is looked
# for in the flattened folder (Work.Sub for Work/Sub), where mbsync keeps
# it. Maildir <-> Maildir, the two folders and the state written as
# mbsync 1.4 leaves them (",U=" names, .uidvalidity, a message deleted
# near since); twinbox says it adopted the state, copies nothing back to
# near, and propagates the deletion to far.
# Run from the top of the tree; tests/run-all.sh runs it.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

far=$TMP/far/Work/Sub
near=$TMP/near/Work.Sub
mkbox "$far"
mkbox "$near"
for i in 1 2 3; do
	printf 'From: a@example.org\nSubject: m%s\nMessage-ID: <m%s@flat.test>\n\nbody\n' \
		"$i" "$i" >"$far/cur/170000000$i.m$i.host,U=$i:2,S"
	[ "$i" = 2 ] && continue
	cp "$far/cur/170000000$i.m$i.host,U=$i:2,S" "$near/cur/"
done
printf '1700000001\n3\n' >"$far/.uidvalidity"
printf '1700000002\n3\n' >"$near/.uidvalidity"
printf 'FarUidValidity 1700000001\nNearUidValidity 1700000002\nMaxPulledUid 3\nMaxPushedUid 3\n\n1 1 S\n2 2 S\n3 3 S\n' \
	>"$near/.mbsyncstate"
cat >"$TMP/sync.rc" <<RC
FSync no
SyncState *

MaildirStore far
Path $TMP/far/
SubFolders Verbatim

MaildirStore near
Path $TMP/near/
Flatten .

Channel c
Far :far:
Near :near:
Patterns Work/Sub
Expunge Both
Sync All
RC

timeout 60 "$BIN" -c "$TMP/sync.rc" c >"$TMP/1.out" 2>&1
expect_eq "run" 0 "$?"
expect_eq "mbsync's state adopted" 1 \
	"$(grep -c "adopted mbsync's state of 1 mailbox pair" "$TMP/1.out")"
expect_eq "m2 not copied back near" 0 "$(grep -rl '<m2@' "$near" | wc -l)"
expect_eq "m2 deleted on far" 0 "$(grep -rl '<m2@' "$far" | wc -l)"
expect_eq "m1 and m3 on both sides" "2 2" \
	"$(grep -rlE '<m[13]@' "$far/cur" | wc -l) $(grep -rlE '<m[13]@' "$near/cur" | wc -l)"

echo "maildir_adopt_flatten: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
