#!/bin/bash
# Watch mode (twinbox --watch) against a private Dovecot that ends the
# watcher's session: `doveadm kick` makes the server send its BYE and
# close the connection. WatchRefresh is 600 s and WatchInterval an hour,
# so that only the immediate path can notice: the watcher must say that
# it lost the connection, connect again, and sync a message delivered
# after the kick. Each wait polls for at most 20 s. Twice:
#  - against a Dovecot without NOTIFY (IDLE per mailbox);
#  - against one with NOTIFY (one connection for the store).
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the servers running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path IMAPC imapc

watch_pid=
cleanup_more() {
	[ -n "$watch_pid" ] && kill -KILL "$watch_pid" 2>/dev/null
}

NO_NOTIFY_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE \
QRESYNC ESEARCH LIST-STATUS MOVE LITERAL+"

# deliver ID: a message with Message-ID <ID@bye.test> appended to the
# server's INBOX.
deliver() {
	printf 'From: s@bye.test\nSubject: %s\nMessage-ID: <%s@bye.test>\n\nBody %s.\n' \
		"$1" "$1" "$1" >"$TMP/msg-$1"
	printf '@append INBOX %s ()\n' "$TMP/msg-$1" |
		"$IMAPC" "$IMAP_PORT" alice secret >/dev/null
}

local_has() {
	find "$LOCAL/INBOX/cur" "$LOCAL/INBOX/new" -type f -exec cat {} + \
		2>/dev/null | grep -q "^Message-ID: <$1@bye.test>"
}
log_count_at_least() { [ "$(grep -c -- "$2" "$WLOG")" -ge "$1" ]; }

# one_case NAME SRVDIR WATCHING: a watcher on SRVDIR's Dovecot, kicked
# once it logs WATCHING (the line that says it waits for the server).
one_case() {
	local name=$1 srv=$2 watching=$3
	LOCAL=$TMP/local-$name
	WLOG=$TMP/watch-$name.log
	mkdir -p "$LOCAL"
	cat >"$TMP/$name.rc" <<RC
$(rc_imap_account alice)
Timeout 5

IMAPStore remote
Account alice

MaildirStore local
Path $LOCAL/
Inbox $LOCAL/INBOX
SubFolders Verbatim

Channel w
Far :remote:
Near :local:
Patterns INBOX
Create Near
SyncState *
WatchInterval 3600
WatchRefresh 600
RC
	deliver "$name-first"
	"$BIN" -V -c "$TMP/$name.rc" --watch w >"$WLOG" 2>&1 &
	watch_pid=$!
	wait_for "$name: the first sync" local_has "$name-first"
	wait_for "$name: the watcher waits for the server" \
		log_count_at_least 1 "$watching"
	doveadm -c "$srv/dovecot.conf" kick alice >"$TMP/kick-$name.out" 2>&1
	expect_eq "$name: doveadm kick ran" 0 "$?"
	wait_for "$name: the lost connection noticed at once" \
		log_count_at_least 1 "no connection; the watcher tries again"
	wait_for "$name: the watcher waits for the server again" \
		log_count_at_least 2 "$watching"
	deliver "$name-after"
	wait_for "$name: a delivery after the kick reaches the Maildir" \
		local_has "$name-after"
	kill "$watch_pid"
	wait "$watch_pid"
	expect_eq "$name: the watcher exits 0 on SIGTERM" 0 "$?"
	watch_pid=
}

TEST_SERVER_CAPS=$NO_NOTIFY_CAPS start_dovecot "$TMP/srv" alice
one_case idle "$TMP/srv" "'INBOX': IDLE"
TEST_SERVER_NOTIFY=1 start_dovecot "$TMP/srv2" alice
one_case notify "$TMP/srv2" "NOTIFY for 1 mailbox"

echo "watch_bye: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
