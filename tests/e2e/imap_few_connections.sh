#!/bin/bash
# A server that refuses extra connections, against a private Dovecot with
# mail_max_userip_connections = 1 (TEST_SERVER_MAX_USERIP=1): an IMAP
# (far) <-> Maildir (near) channel of five folders with Connections 3 and
# Timeout 60. Dovecot lets the second and third connections log in, then
# says BYE. Each run, a first sync and a second one after a change on the
# server:
#  - exits 0, every folder synced (by the one connection it has);
#  - says so in one line, naming the account and what to set
#    ("Connections 1"), and no other warning or error;
#  - takes far less than the Timeout (under 30 s, half of it, a bound no
#    load reaches: the refusal is an answer, never a wait).
# Each run's first step waits until the run has reported the refusal (see
# run below), so that it comes while folders are left for the extra
# connection.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

TEST_SERVER_MAX_USERIP=1 start_dovecot "$TMP/srv" alice

FOLDERS="A B C D"

# mkmsg FILE ID: a small message with Message-ID <ID@few.test>.
mkmsg() {
	printf 'From: s@few.test\nSubject: %s\nMessage-ID: <%s@few.test>\n\nBody of %s.\n' \
		"$2" "$2" "$2" >"$1"
}

# ids DIR: the Message-IDs of a Maildir folder, sorted, on one line.
ids() {
	find "$1/cur" "$1/new" -type f -exec cat {} + 2>/dev/null |
		tr -d '\r' | sed -n 's/^Message-ID: <\(.*\)@few.test>/\1/p' |
		sort | tr '\n' ' '
}

seed=$TMP/seed
mkbox "$seed"
mkmsg "$seed/cur/1.inbox:2,S" inbox
for f in $FOLDERS; do
	mkbox "$seed/.$f"
	mkmsg "$seed/.$f/cur/1.m:2,S" "$f-1"
done
new_user alice "$seed" || {
	echo "FAIL: cannot make the Maildir of alice" >&2
	exit 1
}

mkdir -p "$TMP/near"
cat >"$TMP/sync.rc" <<RC
$(rc_imap_account acct alice)
Connections 3
Timeout 60

IMAPStore far
Account acct

MaildirStore near
Path $TMP/near/
Inbox $TMP/near/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns *
Create Near
SyncState *
RC

# The one line: what happened (the server's words), that the run goes on,
# and what to set.
WANT_LINE="^twinbox: warning: channel c: an extra connection could not be opened (imap store 'far': 127\.0\.0\.1 port [0-9]*: login as alice with PLAIN failed: NO \[LIMIT\] Maximum number of connections from user+IP exceeded (mail_max_userip_connections=1)); the run goes on over the connections it has (if the server allows only one, set 'Connections 1' in the IMAPAccount of store 'far')\$"

# The refusal must reach the run while folders are left for the extra
# connection: on a fast or busy machine the first connection could
# otherwise sync every folder before the refused worker has read the
# server's answer, and the run, rightly, abandons a connection it no
# longer needs, saying nothing. So the run's first step waits
# (TWINBOX_HOOK_AT, only that connection's thread waits) until the run's
# own output holds the warning, which the refused worker prints as soon as
# it has the answer, at most 20 s (the line and time checks then fail).
# (Waiting for the server's log instead would leave the refused worker
# that answer still to read while the first connection syncs the rest.)
cat >"$TMP/wait-warning" <<'SH'
i=0
while ! grep -q 'an extra connection could not be opened' "$1" &&
    [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
SH

# run NAME: one run, timed; status in $status, seconds in $secs.
run() {
	local t0 t1
	t0=$(date +%s)
	TWINBOX_HOOK_AT=1 \
	TWINBOX_HOOK_CMD="sh '$TMP/wait-warning' '$TMP/$1.out'" \
		timeout 120 "$BIN" -c "$TMP/sync.rc" c >"$TMP/$1.out" 2>&1
	status=$?
	t1=$(date +%s)
	secs=$((t1 - t0))
}

# check NAME: the run's outcome.
check() {
	expect_eq "$1: exit status" 0 "$status"
	expect_eq "$1: one line says what to set" 1 \
		"$(grep -c "$WANT_LINE" "$TMP/$1.out")"
	expect_eq "$1: no other warning or error" "" \
		"$(grep -e 'warning' -e 'error' "$TMP/$1.out" | grep -v "$WANT_LINE")"
	expect_eq "$1: done well within the Timeout (${secs}s)" 1 \
		"$([ "$secs" -lt 30 ] && echo 1 || echo 0)"
}

run first
check first
expect_eq "first: INBOX synced" "inbox " "$(ids "$TMP/near/INBOX")"
for f in $FOLDERS; do
	expect_eq "first: $f synced" "$f-1 " "$(ids "$TMP/near/$f")"
done

# A new message in every folder of the server, so that the second run
# has work in each (every pair busy: every connection wanted).
for f in $FOLDERS; do
	mkmsg "$MAIL_DIR/alice/.$f/new/2.m" "$f-2"
done
chown -R "$MAIL_OWNER" "$MAIL_DIR/alice"
run second
check second
for f in $FOLDERS; do
	expect_eq "second: $f holds the new message" "$f-1 $f-2 " \
		"$(ids "$TMP/near/$f")"
done

echo "imap_few_connections: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
