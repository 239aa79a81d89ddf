#!/bin/bash
# First contact's cost, read from the -D protocol log, against a private
# Dovecot on an IMAP <-> Maildir channel. After a first sync of thirty
# messages, both sides get new mail no record holds: five messages on the
# server, one sent message saved in the Maildir, and one message that
# arrived on both. The next run
#  - asks for the headers of the six new server messages in one
#    UID FETCH ... (UID BODY.PEEK[HEADER]);
#  - reads the body of each new server message exactly once: the five to
#    copy them, the one on both sides to compare its fingerprint, which
#    pairs it instead of copying it;
#  - appends the one sent message, and nothing else.
# Both sides then hold 37 messages, and a third run has nothing to do.
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

cleanup() {
	timeout 60 bash "$SERVER" stop "$TMP/srv" >/dev/null 2>&1
	rm -rf "$TMP"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT
trap 'exit 1' INT TERM

. tests/e2e/checks.bash

if ! bash "$SERVER" start "$TMP/srv" alice >"$TMP/start.out" 2>&1 ||
    ! bash "$SERVER" populate "$TMP/srv" alice 30 1 >>"$TMP/start.out" 2>&1
then
	echo "FAIL: cannot start Dovecot:" >&2
	cat "$TMP/start.out" >&2
	exit 1
fi
. "$TMP/srv/server.env"
N=$TMP/near
A=$MAIL_DIR/alice

mkdir -p "$N/INBOX/cur" "$N/INBOX/new" "$N/INBOX/tmp" "$TMP/state"
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
RC

count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l
}

run() {
	timeout 120 "$BIN" -D -c "$TMP/sync.rc" local >"$TMP/$1.out" \
		2>"$TMP/$1.err"
	expect_eq "run $1: exit status" 0 "$?"
}

# msg ID: a message with Message-ID <ID>, LF line ends as on disk.
msg() {
	printf 'From: fc@first-contact.test\nSubject: %s\nMessage-ID: <%s@first-contact.test>\n\nBody of %s.\n' \
		"$1" "$1" "$1"
}

# server_deliver ID: a new message in the server's Maildir, as its MDA
# would leave it.
server_deliver() {
	msg "$1" >"$A/new/1800000000.$1.srv"
	[ "$(id -u)" -ne 0 ] || chown "$MAIL_OWNER" "$A/new/1800000000.$1.srv"
}

# body_fetched LOG: every UID a UID FETCH ... BODY.PEEK[] named, one a
# line (ranges a:b expanded).
body_fetched() {
	sed -n 's/.*>> [A-Z0-9]* UID FETCH \([0-9:,]*\) (.*BODY\.PEEK\[\]).*/\1/p' "$1" |
	    tr ',' '\n' | awk -F: '{ b = NF > 1 ? $2 : $1
		for (u = $1; u <= b; u++) print u }'
}

run first
expect_eq "first: messages near" 30 "$(count "$N/INBOX")"

for id in s1 s2 s3 s4 s5 both; do
	server_deliver "$id"
done
msg sent >"$N/INBOX/cur/1800000001.sent.near:2,S"
msg both >"$N/INBOX/new/1800000002.both.near"

run second
expect_eq "second: one header FETCH" 1 \
	"$(grep -c '>> [A-Z0-9]* UID FETCH [0-9:,]* (UID BODY.PEEK\[HEADER\])' "$TMP/second.out")"
expect_eq "second: the headers of the six new server messages" \
	"31:36" \
	"$(sed -n 's/.*>> [A-Z0-9]* UID FETCH \([0-9:,]*\) (UID BODY.PEEK\[HEADER\]).*/\1/p' "$TMP/second.out")"
expect_eq "second: bodies read, each UID once" "31 32 33 34 35 36" \
	"$(body_fetched "$TMP/second.out" | sort -n | tr '\n' ' ' | sed 's/ $//')"
expect_eq "second: one APPEND" 1 \
	"$(grep -c '>> [A-Z0-9]* APPEND ' "$TMP/second.out")"
expect_eq "second: messages near" 37 "$(count "$N/INBOX")"
expect_eq "second: messages on the server" 37 "$(count "$A")"
expect_eq "second: the message on both sides, once near" 1 \
	"$(grep -l 'Message-ID: <both@' "$N"/INBOX/*/* | wc -l)"
expect_eq "second: the message on both sides, once on the server" 1 \
	"$(grep -l 'Message-ID: <both@' "$A"/cur/* "$A"/new/* 2>/dev/null | wc -l)"
run third
expect_eq "third: no FETCH of a body" "" "$(body_fetched "$TMP/third.out")"
expect_eq "third: up to date" 1 "$(grep -c 'local:INBOX: up to date' "$TMP/third.out")"

echo "imap_first_contact: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
