#!/bin/bash
# TrashRemoteNew against a private Dovecot on an IMAP <-> Maildir
# channel, as mbsync documents it: a message one side expunges before it
# was ever copied to the other side goes into the other store's Trash
# first, when the expunging store has no Trash of its own.
#  - far to near: a message that arrives on the server already \Deleted
#    (Expunge Far) is expunged there and lands in the near Trash (made,
#    as mbsync makes a Trash), with its flags; a message that was copied
#    and is then deleted on the server is not put there; a second run
#    does nothing more; a dry run before says so and changes nothing.
#  - near to far: a message that appears near already marked T (Expunge
#    Near) lands in the server's Trash, which is created.
#  - without TrashRemoteNew the same message is expunged with no copy.
#  - a near Trash that cannot be made (a file in its place): exit 1, the
#    cause named, the message left on the server; once the file is gone,
#    the next run stores it there and expunges it.
#  - a kill at every step of such a run, then a clean run: the message is
#    in the near Trash (twice at most at one step: a kill between the
#    store's answer and the flush of the record, docs/sync-rules.md) and
#    gone from the server.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

tool_path IMAPC imapc

start_dovecot "$TMP/srv"
N=$TMP/near
A=$MAIL_DIR/alice
mkdir -p "$TMP/state" "$TMP/msg" "$N"

imapc() {
	"$IMAPC" "$IMAP_PORT" alice secret
}

# Messages of a folder (a Maildir directory) whose Message-ID has TAG.
has() {
	grep -l "^Message-ID: <$2@" "$1"/cur/* "$1"/new/* 2>/dev/null | wc -l
}

msg() {
	printf 'Subject: %s\nMessage-ID: <%s@remote.test>\n\nBody of %s.\n' \
		"$1" "$1" "$1" >"$TMP/msg/$1"
}

# rc FAR_TRASH_LINES NEAR_TRASH_LINES EXPUNGE [FILE STATE NEAR]
rc() {
	{
		printf 'SyncState %s/\n\n' "${5:-$TMP/state}"
		rc_imap_account alice
		cat <<RC

IMAPStore far
Account alice
$1

MaildirStore near
Path ${6:-$N}/
Inbox ${6:-$N}/INBOX
SubFolders Verbatim
$2

Channel box
Far :far:Box
Near :near:Box
Create Near
Expunge $3
RC
	} >"${4:-$TMP/sync.rc}"
}

run() {
	timeout 120 "$BIN" -c "$TMP/sync.rc" box >"$TMP/$1.out" 2>"$TMP/$1.err"
	echo "$?"
}

# --- far to near ---
msg r1
msg r2
msg r3
{
	echo 'CREATE Box'
	echo "@append Box $TMP/msg/r1 (\\Seen)"
} | imapc >/dev/null || { echo "imap_trash_remote_new: filling the server failed"; exit 1; }
rc "" "Trash NTrash
TrashRemoteNew yes" Far
expect_eq "first: exit status" 0 "$(run first)"
expect_eq "first: r1 near" 1 "$(has "$N/Box" r1)"
{
	echo "@append Box $TMP/msg/r2 (\\Seen \\Flagged \\Deleted)"
	echo "@append Box $TMP/msg/r3 (\\Seen)"
	echo 'SELECT Box'
	echo 'UID STORE 1 +FLAGS (\Deleted)'
} | imapc >/dev/null || { echo "imap_trash_remote_new: adding r2 failed"; exit 1; }
timeout 120 "$BIN" --dry-run -c "$TMP/sync.rc" box >"$TMP/dry.out" 2>"$TMP/dry.err"
expect_eq "dry run: exit status" 0 "$?"
expect_eq "dry run: says where r2 would go" 1 \
	"$(grep -c "trash far uid 2 in near's Trash" "$TMP/dry.out" "$TMP/dry.err" | awk -F: '{s += $2} END {print s}')"
expect_eq "dry run: no near Trash made" 0 "$(find "$N" -maxdepth 1 -name NTrash | wc -l)"
expect_eq "dry run: r2 still on the server" 1 "$(has "$A/.Box" r2)"
expect_eq "far to near: exit status" 0 "$(run f2n)"
expect_eq "far to near: r2 in the near Trash" 1 "$(has "$N/NTrash" r2)"
expect_eq "far to near: with its flags, T included" 1 \
	"$(grep -l '^Message-ID: <r2@' "$N"/NTrash/cur/* | grep -c ':2,FST$')"
expect_eq "far to near: r2 expunged on the server" 0 "$(has "$A/.Box" r2)"
expect_eq "far to near: r2 not in near's Box" 0 "$(has "$N/Box" r2)"
expect_eq "far to near: r3 copied" 1 "$(has "$N/Box" r3)"
expect_eq "far to near: r1, once copied, not in the near Trash" 0 "$(has "$N/NTrash" r1)"
expect_eq "far to near: r1 expunged on the server" 0 "$(has "$A/.Box" r1)"
expect_eq "far to near: the summary counts it" 1 \
	"$(grep -c '; 1 copied to Trash on near' "$TMP/f2n.out")"
expect_eq "again: exit status" 0 "$(run again)"
expect_eq "again: still one copy in the near Trash" 1 "$(has "$N/NTrash" r2)"

# --- near to far ---
msg r4
msg r5
cp "$TMP/msg/r4" "$N/Box/cur/$(date +%s).r4.host:2,ST"
rc "Trash FTrash" "TrashRemoteNew no" Near
expect_eq "near, TrashRemoteNew no: exit status" 0 "$(run n2f-no)"
expect_eq "near, TrashRemoteNew no: r4 expunged near" 0 "$(has "$N/Box" r4)"
expect_eq "near, TrashRemoteNew no: no server Trash" 0 "$(has "$A/.FTrash" r4)"
cp "$TMP/msg/r5" "$N/Box/cur/$(date +%s).r5.host:2,ST"
rc "Trash FTrash
TrashRemoteNew yes" "" Near
expect_eq "near to far: exit status" 0 "$(run n2f)"
expect_eq "near to far: r5 in the server's Trash" 1 "$(has "$A/.FTrash" r5)"
expect_eq "near to far: r5 expunged near" 0 "$(has "$N/Box" r5)"
expect_eq "near to far: r5 not in the server's Box" 0 "$(has "$A/.Box" r5)"

# --- a near Trash that cannot be made: a plain file in its place ---
msg r6
echo 'not a mailbox' >"$N/Blocked"
echo "@append Box $TMP/msg/r6 (\\Seen \\Deleted)" | imapc >/dev/null ||
	echo "imap_trash_remote_new: adding r6 failed"
rc "" "Trash Blocked
TrashRemoteNew yes" Far
expect_eq "Trash blocked: exit status" 1 "$(run blocked)"
expect_eq "Trash blocked: the cause, named" 1 \
	"$(grep -c "box: cannot copy UID [0-9]* of far to Trash 'Blocked' on near .*Blocked.*it is not expunged" "$TMP/blocked.err")"
expect_eq "Trash blocked: r6 still on the server" 1 "$(has "$A/.Box" r6)"
rm "$N/Blocked"
expect_eq "Trash free: exit status" 0 "$(run unblocked)"
expect_eq "Trash free: r6 in the near Trash" 1 "$(has "$N/Blocked" r6)"
expect_eq "Trash free: r6 expunged on the server" 0 "$(has "$A/.Box" r6)"

# --- a kill at every step ---
k=0
doubles=0
while :; do
	k=$((k + 1))
	rm -rf "$TMP/kstate" "$TMP/knear"
	mkdir -p "$TMP/kstate" "$TMP/knear"
	rc "" "Trash KT$k
TrashRemoteNew yes" Far "$TMP/k.rc" "$TMP/kstate" "$TMP/knear"
	sed -i "s/:far:Box/:far:Kb$k/; s/:near:Box/:near:Kb$k/" "$TMP/k.rc"
	msg x$k
	{
		echo "CREATE Kb$k"
		echo "@append Kb$k $TMP/msg/r3 (\\Seen)"
	} | imapc >/dev/null || { echo "FAIL: filling Kb$k"; failed=$((failed + 1)); break; }
	timeout 60 "$BIN" -c "$TMP/k.rc" box >/dev/null 2>"$TMP/k-first.err"
	echo "@append Kb$k $TMP/msg/x$k (\\Deleted)" | imapc >/dev/null
	TWINBOX_CRASH_AFTER=$k timeout 60 "$BIN" -c "$TMP/k.rc" box \
		>/dev/null 2>"$TMP/k-kill.err"
	killed=$?
	timeout 60 "$BIN" -c "$TMP/k.rc" box >/dev/null 2>"$TMP/k-clean.err"
	clean=$?
	t=$(has "$TMP/knear/KT$k" "x$k")
	got="$clean $(has "$A/.Kb$k" "x$k") $(has "$TMP/knear/Kb$k" "x$k") $(has "$TMP/knear/Kb$k" r3)"
	if [ "$got" != "0 0 0 1" ] || [ "$t" -lt 1 ] || [ "$t" -gt 2 ]; then
		echo "FAIL: kill at step $k: exit/server/near/r3 $got, near Trash $t"
		failed=$((failed + 1))
	fi
	[ "$t" = 2 ] && { doubles=$((doubles + 1)); echo "kill at step $k: a second Trash copy"; }
	[ "$killed" -ne 137 ] && break
	[ "$k" -lt 60 ] || { echo "FAIL: over 60 steps"; failed=$((failed + 1)); break; }
done
expect_eq "kill sweep: steps swept beyond 2" 1 "$([ "$k" -gt 2 ] && echo 1 || echo 0)"
expect_eq "kill sweep: a second Trash copy at one step at most" 1 \
	"$([ "$doubles" -le 1 ] && echo 1 || echo 0)"
echo "imap_trash_remote_new: kill sweep over $k steps, $doubles with a second Trash copy"

echo "imap_trash_remote_new: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
