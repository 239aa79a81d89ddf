#!/bin/bash
# ExpungeSolo (mbsync 1.5) against a private Dovecot on an IMAP <->
# Maildir channel with Sync All and ExpungeSolo Both: a \Deleted message
# is expunged only where it stands alone.
#  - s1 marked \Deleted on the server, its near copy still there: nothing
#    is expunged; the near copy gets the mark too.
#  - s2 removed near: the server's copy is marked (Gone) and, alone now,
#    expunged in the same run.
#  - s4 arriving on the server already \Deleted: expunged there, never
#    copied.
#  - s1's near copy then removed: the server's s1 goes too; a last run
#    has nothing to do and s3 is untouched on both sides.
#  - 'ExpungeSolo Far' next to 'Expunge Far' in one channel is an error.
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

# The file of TAG in a Maildir folder.
file_of() {
	grep -l "^Message-ID: <$2@" "$1"/cur/* "$1"/new/* 2>/dev/null
}

for i in 1 2 3 4; do
	printf 'Subject: s%s\nMessage-ID: <s%s@solo.test>\n\nBody %s.\n' \
		"$i" "$i" "$i" >"$TMP/msg/s$i"
done
{
	echo 'CREATE Box'
	for i in 1 2 3; do
		echo "@append Box $TMP/msg/s$i (\\Seen)"
	done
} | imapc >/dev/null || { echo "imap_expunge_solo: filling the server failed"; exit 1; }

{
	printf 'SyncState %s/state/\n\n' "$TMP"
	rc_imap_account alice
	cat <<RC

IMAPStore far
Account alice

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim

Channel box
Far :far:Box
Near :near:Box
Create Near
Sync All
ExpungeSolo Both
RC
} >"$TMP/sync.rc"

# run NAME [OPTION...]: its exit status; output in TMP/NAME.out.
run() {
	timeout 120 "$BIN" "${@:2}" -c "$TMP/sync.rc" box >"$TMP/$1.out" \
		2>"$TMP/$1.err"
	echo "$?"
}

expect_eq "first: exit status" 0 "$(run first)"
expect_eq "first: three near" "1 1 1" \
	"$(has "$N/Box" s1) $(has "$N/Box" s2) $(has "$N/Box" s3)"

printf 'SELECT Box\nUID STORE 1 +FLAGS (\\Deleted)\n' | imapc >/dev/null ||
	echo "imap_expunge_solo: marking s1 failed"
expect_eq "paired: exit status" 0 "$(run paired)"
expect_eq "paired: s1 stays on the server" 1 "$(has "$A/.Box" s1)"
expect_eq "paired: s1 stays near" 1 "$(has "$N/Box" s1)"
expect_eq "paired: the near copy marked too" 1 \
	"$(file_of "$N/Box" s1 | grep -c ':2,[A-Z]*T')"

rm "$(file_of "$N/Box" s2)"
echo "@append Box $TMP/msg/s4 (\\Seen \\Deleted)" | imapc >/dev/null ||
	echo "imap_expunge_solo: adding s4 failed"
expect_eq "alone: exit status" 0 "$(run alone)"
expect_eq "alone: s2 expunged on the server" 0 "$(has "$A/.Box" s2)"
expect_eq "alone: s4 expunged on the server" 0 "$(has "$A/.Box" s4)"
expect_eq "alone: s4 never copied" 0 "$(has "$N/Box" s4)"
expect_eq "alone: s1 still on both sides" "1 1" \
	"$(has "$A/.Box" s1) $(has "$N/Box" s1)"

rm "$(file_of "$N/Box" s1)"
expect_eq "s1 alone: exit status" 0 "$(run s1)"
expect_eq "s1 alone: expunged on the server" 0 "$(has "$A/.Box" s1)"
expect_eq "last: exit status" 0 "$(run last -V)"
expect_eq "last: up to date" 1 "$(grep -c 'box: up to date' "$TMP/last.out")"
expect_eq "last: s3 on both sides, unmarked" "1 1 0" \
	"$(has "$A/.Box" s3) $(has "$N/Box" s3) $(file_of "$N/Box" s3 | grep -c ':2,[A-Z]*T')"
expect_eq "last: the server holds s3 alone" 1 \
	"$(find "$A/.Box/cur" "$A/.Box/new" -type f | wc -l)"

sed -i 's/^ExpungeSolo Both$/Expunge Far\nExpungeSolo Far/' "$TMP/sync.rc"
expect_eq "both keys: exit status" 2 "$(run both)"
expect_eq "both keys: the reason" 1 \
	"$(grep -c "'Expunge' and 'ExpungeSolo' both select the far side" "$TMP/both.err")"

echo "imap_expunge_solo: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
