#!/bin/bash
# Expunges on the server, read from the -D protocol log, against a private
# Dovecot on an IMAP <-> Maildir channel with Expunge Both: after a first
# sync of four messages, one near message is marked \Deleted (T) and
# another near file is removed. The next run marks both far messages
# \Deleted with one UID STORE, sends one UID EXPUNGE, and never sends the
# mark twice; both messages are gone from both sides, and a third run
# has nothing to do.
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

start_dovecot "$TMP/srv"
N=$TMP/near
A=$MAIL_DIR/alice

mkdir -p "$N/INBOX/cur" "$N/INBOX/new" "$N/INBOX/tmp" "$TMP/state"
for i in 1 2 3 4; do
	printf 'Subject: %s\nMessage-ID: <%s@expunge.test>\n\nBody %s.\n' \
		"$i" "$i" "$i" >"$N/INBOX/cur/100$i.m$i:2,S"
done

cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

IMAPAccount alice
Host 127.0.0.1
Port $IMAP_PORT
User alice
Pass secret
TLSType None
AuthMechs PLAIN

IMAPStore far
Account alice

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim

Channel local
Far :far:
Near :near:
Patterns INBOX
Expunge Both
RC

count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l
}

run() {
	timeout 120 "$BIN" -D -c "$TMP/sync.rc" local >"$TMP/$1.out" \
		2>"$TMP/$1.err"
	expect_eq "run $1: exit status" 0 "$?"
}

run first
expect_eq "first: messages on the server" 4 "$(count "$A")"

f1=$(find "$N/INBOX/cur" -name '1001.m1*')
mv "$f1" "${f1%:2,*}:2,ST"
rm "$(find "$N/INBOX/cur" -name '1002.m2*')"
run second
expect_eq "second: one STORE of \\Deleted" 1 \
	"$(grep -c '> [A-Z0-9]* UID STORE .*+FLAGS.SILENT (\\Deleted)' "$TMP/second.out")"
expect_eq "second: both UIDs in it" 1 \
	"$(grep -c '> [A-Z0-9]* UID STORE 1:2 +FLAGS.SILENT (\\Deleted)' "$TMP/second.out")"
expect_eq "second: one UID EXPUNGE" 1 \
	"$(grep -c '> [A-Z0-9]* UID EXPUNGE ' "$TMP/second.out")"
expect_eq "second: messages near" 2 "$(count "$N/INBOX")"
expect_eq "second: messages on the server" 2 "$(count "$A")"
run third
expect_eq "third: no STORE" 0 "$(grep -c 'UID STORE' "$TMP/third.out")"
expect_eq "third: up to date" 1 "$(grep -c 'local:INBOX: up to date' "$TMP/third.out")"

echo "imap_expunge: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
