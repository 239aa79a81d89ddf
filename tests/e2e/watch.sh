#!/bin/bash
# Watch mode (twinbox --watch) against a private Dovecot, on an IMAP <->
# Maildir channel whose IMAP connections go through tests/tools/relay:
#  - the first sync, then a message delivered to the server appears in the
#    Maildir, and a flag set in the Maildir reaches the server (without
#    inotify: with the sync that a second delivery causes);
#  - while nothing changes, the watcher (refreshing its IDLE every 2 s)
#    writes no file and uses less than 5 clock ticks of CPU in 5 s;
#  - the relay killed and a new one started on the same port (every
#    connection cut), with a message delivered meanwhile: the watcher
#    connects again and syncs it;
#  - the server stopped and started again, a message delivered after:
#    the same;
#  - a one-shot run beside the watcher exits 0 and copies nothing twice;
#    one started while the watcher's sync holds the pair's lock waits for
#    it (LockWait), then syncs and exits 0;
#  - SIGHUP with WatchMailboxes extended to a second folder: a delivery
#    there is synced (WatchInterval is an hour, so only IDLE can do it);
#    SIGHUP with a broken configuration: an error, the old one kept, the
#    watcher still syncs;
#  - SIGTERM: exit 0 within 30 s, no journal or Maildir tmp/ file left, a
#    dry run afterwards plans nothing;
#  - a watcher started while the server cannot be reached stays, and
#    syncs once it can; in the end every message is once on each side;
#  - against a Dovecot with NOTIFY (RFC 5465): one connection (one NOTIFY
#    SET in the -D trace) watches INBOX and Work; a delivery to each and a
#    flag set on the server in Work reach the Maildir (the cases above
#    run against a Dovecot without NOTIFY: IDLE per mailbox); NOTIFY
#    refused (answered NO through tests/tools/faultproxy): a warning,
#    IDLE per mailbox, and a delivery still arrives;
#  - on a Maildir <-> Maildir channel (inotify on both sides): a new far
#    message reaches the near side, a near flag the far side; with a
#    binary that has no inotify (COMPAT=portable, not Linux) the watcher
#    says so and the periodic sync (WatchInterval 2 s) does the same;
#  - against a Dovecot that does not offer IDLE: a warning, and the
#    periodic sync (WatchInterval) brings new mail.
# Every wait polls for the expected state, at most 20 s each.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path IMAPC imapc
tool_path RELAY relay
tool_path FAULTPROXY faultproxy

relay_pid=
watch_pid=
cleanup_more() {
	[ -n "$watch_pid" ] && kill -KILL "$watch_pid" 2>/dev/null
	[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
}

# The IDLE cases run against a Dovecot that does not offer NOTIFY.
NO_NOTIFY_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE \
QRESYNC ESEARCH LIST-STATUS MOVE LITERAL+"
TEST_SERVER_CAPS=$NO_NOTIFY_CAPS start_dovecot "$TMP/srv" alice
LOCAL=$TMP/local
RC=$TMP/sync.rc
WLOG=$TMP/watch.log
mkdir -p "$LOCAL"

# start_relay [PORT]: a relay to the Dovecot, on PORT or a new port.
start_relay() {
	local i
	rm -f "$TMP/relay.port"
	"$RELAY" --listen-port-file "$TMP/relay.port" \
		--to "127.0.0.1:$IMAP_PORT" --max-seconds 3600 \
		${1:+--listen-port "$1"} >>"$TMP/relay.log" 2>&1 &
	relay_pid=$!
	for i in $(seq 200); do
		[ -s "$TMP/relay.port" ] && break
		sleep 0.1
	done
	RELAY_PORT=$(cat "$TMP/relay.port" 2>/dev/null)
	if [ -z "$RELAY_PORT" ]; then
		echo "FAIL: the relay did not start" >&2
		cat "$TMP/relay.log" >&2
		exit 1
	fi
}

stop_relay() {
	kill "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null
	relay_pid=
}

# config WATCHED...: the configuration, watching those mailboxes.
config() {
	cat >"$RC" <<RC
IMAPAccount acc
Host 127.0.0.1
Port $RELAY_PORT
User alice
Pass secret
TLSType None
AuthMechs PLAIN
Timeout 5

IMAPStore remote
Account acc

MaildirStore local
Path $LOCAL/
Inbox $LOCAL/INBOX
SubFolders Verbatim

Channel w
Far :remote:
Near :local:
Patterns *
Create Near
Expunge Both
SyncState *
WatchInterval 3600
WatchRefresh 2
WatchMailboxes $*
RC
}

imapc() {
	"$IMAPC" "$IMAP_PORT" alice secret
}

# deliver BOX ID: a message with Message-ID <ID@watch.test> appended to
# the server's BOX.
deliver() {
	printf 'From: s@watch.test\nSubject: %s\nMessage-ID: <%s@watch.test>\n\nBody %s.\n' \
		"$2" "$2" "$2" >"$TMP/msg-$2"
	printf '@append %s %s ()\n' "$1" "$TMP/msg-$2" | imapc >/dev/null
}

# local_ids DIR: the Message-IDs of a local folder, sorted, one line.
local_ids() {
	find "$1/cur" "$1/new" -type f -exec cat {} + 2>/dev/null |
		sed -n 's/^Message-ID: <\(.*\)@watch.test>/\1/p' | sort |
		tr '\n' ' '
}

# server_ids BOX: the same of a server mailbox.
server_ids() {
	printf 'EXAMINE %s\nFETCH 1:* (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\n' \
		"$1" | imapc 2>/dev/null |
		sed -n 's/.*Message-ID: <\([^@]*\)@watch.test>.*/\1/p' | sort |
		tr '\n' ' '
}

# server_flagged BOX ID: 0 when the message carries \Flagged.
server_flagged() {
	printf 'EXAMINE %s\nFETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\n' \
		"$1" | imapc 2>/dev/null | grep "<$2@watch.test>" |
		grep -q '\\Flagged'
}

# has_id IDS ID: ID is one of the words of IDS.
has_id() {
	case " $1 " in *" $2 "*) return 0 ;; esac
	return 1
}

local_has() { has_id "$(local_ids "$LOCAL/$1")" "$2"; }
log_has() { grep -q -- "$1" "$WLOG"; }

watcher_alive() {
	kill -0 "$watch_pid" 2>/dev/null
}

# ticks PID: user + system CPU time of PID in clock ticks.
ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

printf 'CREATE Work\n' | imapc >/dev/null
deliver INBOX first
start_relay
config INBOX

"$BIN" -V -c "$RC" --watch w >"$WLOG" 2>&1 &
watch_pid=$!

wait_for "the first sync copies the server's message" local_has INBOX first
wait_for "the watcher watches INBOX" log_has "watching mailbox 'INBOX'"
wait_for "the watcher IDLEs" log_has "'INBOX': IDLE"
wait_for "without NOTIFY the watcher says (-V) it IDLEs per mailbox" \
	log_has "does not offer NOTIFY; each watched mailbox IDLEs"

deliver INBOX arrived
wait_for "a delivery to the server reaches the Maildir" \
	local_has INBOX arrived

# A flag set by a mail reader: the file renamed with F added.
flag_local() {
	local f
	f=$(grep -l "<$1@watch.test>" "$LOCAL/INBOX/cur/"* "$LOCAL/INBOX/new/"* \
		2>/dev/null | head -n 1)
	[ -n "$f" ] || return 1
	case "$f" in
	*/new/*) mv "$f" "$LOCAL/INBOX/cur/$(basename "${f%%:2,*}"):2,F" ;;
	*) mv "$f" "${f%%:2,*}:2,F${f##*:2,}" ;;
	esac
}
# Without inotify the flag waits for the next sync: a delivery causes one.
CARRIER=
if flag_local first; then
	if ! binary_has_inotify; then
		CARRIER="flag-carrier "
		deliver INBOX flag-carrier
	fi
	wait_for "a flag set in the Maildir reaches the server" \
		server_flagged INBOX first
else
	fail "the Maildir holds the first message to flag"
fi

# Idle: no file written, next to no CPU. Let the echo of the last sync
# settle first (its own changes come back as events once, and the server
# holds its word back): the watcher is taken as settled once its log (-V:
# a line for every sync and every new IDLE, none for a refresh) has not
# grown for 3 s, waited for at most 30 s. (A fixed pause would end before
# a late echo on a busy machine, and the window below would count it.)
wait_quiet "the watcher settles before the idle window"
touch "$TMP/stamp"
before=$(ticks "$watch_pid")
sleep 5
after=$(ticks "$watch_pid")
written=$(find "$LOCAL" -newer "$TMP/stamp" 2>/dev/null)
expect_eq "an idle watcher writes no file" "" "$written"
if [ $((after - before)) -lt 5 ]; then
	pass "an idle watcher uses almost no CPU ($((after - before)) ticks in 5 s)"
else
	fail "an idle watcher uses almost no CPU" "$((after - before)) ticks in 5 s"
fi

# Every connection cut: the relay stopped, a message delivered, a new
# relay on the same port.
stop_relay
deliver INBOX during-cut
start_relay "$RELAY_PORT"
wait_for "after a cut connection the watcher syncs what came meanwhile" \
	local_has INBOX during-cut

# The server stopped and started again. Its IMAP processes (children of
# its master) may outlive the master: they are stopped too, as a server
# that goes down takes its sessions along.
kids=$(pgrep -P "$PID")
timeout 60 bash "$SERVER" stop "$TMP/srv" >/dev/null 2>&1
for k in $kids; do
	kill "$k" 2>/dev/null
done
old_port=$IMAP_PORT
if ! TEST_SERVER_CAPS=$NO_NOTIFY_CAPS \
	TEST_SERVER_PORTS="$IMAP_PORT $IMAPS_PORT" timeout 60 \
	bash "$SERVER" start "$TMP/srv" >"$TMP/restart.out" 2>&1; then
	fail "the server starts again" "$(cat "$TMP/restart.out")"
fi
. "$TMP/srv/server.env"
if [ "$IMAP_PORT" != "$old_port" ]; then	# ports taken meanwhile
	stop_relay
	start_relay "$RELAY_PORT"
fi
deliver INBOX after-restart
wait_for "after a server restart the watcher syncs new mail" \
	local_has INBOX after-restart

# A one-shot run while the watcher waits.
"$BIN" -c "$RC" w >"$TMP/oneshot.out" 2>&1
expect_eq "a one-shot run beside the watcher exits 0" 0 $?

# SIGHUP: Work watched too.
config INBOX Work
kill -HUP "$watch_pid"
wait_for "after SIGHUP the new WatchMailboxes is read" \
	log_has "watching mailbox 'Work'"
wait_for "after SIGHUP the watcher IDLEs on Work" log_has "'Work': IDLE"
deliver Work in-work
wait_for "a delivery to the newly watched folder reaches the Maildir" \
	local_has Work in-work

# SIGHUP with a configuration that does not load.
mv "$RC" "$RC.good"
printf 'NoSuchKey yes\n' >"$RC"
kill -HUP "$watch_pid"
wait_for "a bad configuration on SIGHUP is reported and the old one kept" \
	log_has "keeping the configuration in use"
mv "$RC.good" "$RC"
if watcher_alive; then
	pass "the watcher survives a bad configuration"
else
	fail "the watcher survives a bad configuration" "$(tail "$WLOG")"
fi
deliver INBOX after-bad-hup
wait_for "the old configuration still syncs" local_has INBOX after-bad-hup

# SIGTERM: exit 0, at a durable point.
kill -TERM "$watch_pid"
for i in $(seq 300); do
	watcher_alive || break
	sleep 0.1
done
if watcher_alive; then
	fail "SIGTERM ends the watcher within 30 s"
	kill -KILL "$watch_pid"
fi
wait "$watch_pid"
expect_eq "the watcher exits 0 on SIGTERM" 0 $?
watch_pid=
left=$(find "$LOCAL" \( -name '*.journal' -o -path "$LOCAL/*/tmp/*" \) -type f)
expect_eq "no journal or temporary file left" "" "$left"
"$BIN" -y -V -c "$RC" w >"$TMP/dry.out" 2>&1
expect_eq "a dry run after the watcher exits 0" 0 $?
if grep -Eq 'copy|flags [+-]|expunge ' "$TMP/dry.out" ||
	! grep -q "nothing to do" "$TMP/dry.out"; then
	fail "a dry run after the watcher plans nothing" "$(cat "$TMP/dry.out")"
else
	pass "a dry run after the watcher plans nothing"
fi

# Started while the server cannot be reached: it stays, and syncs once
# the server is back.
stop_relay
deliver INBOX while-down
"$BIN" -V -c "$RC" --watch w >"$WLOG" 2>&1 &
watch_pid=$!
wait_for "a watcher started with the server unreachable says so" \
	log_has "cannot be listed"
if watcher_alive; then
	pass "a watcher started with the server unreachable stays"
else
	fail "a watcher started with the server unreachable stays" \
		"$(cat "$WLOG")"
fi
start_relay "$RELAY_PORT"
wait_for "once the server is reachable the watcher syncs" \
	local_has INBOX while-down
kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "that watcher exits 0 on SIGTERM" 0 $?
watch_pid=

ALL="after-bad-hup after-restart arrived during-cut first ${CARRIER}while-down "
expect_eq "every message once in the local INBOX" "$ALL" \
	"$(local_ids "$LOCAL/INBOX")"
expect_eq "every message once in the server's INBOX" "$ALL" \
	"$(server_ids INBOX)"
expect_eq "every message once in the local Work" "in-work " \
	"$(local_ids "$LOCAL/Work")"

stop_relay

# NOTIFY (RFC 5465): one connection watches INBOX and Work; deliveries to
# both, and a flag set on the server in Work, reach the Maildir.
TEST_SERVER_NOTIFY=1 start_dovecot "$TMP/srv3" alice
printf 'CREATE Work\n' | imapc >/dev/null
RELAY_PORT=$IMAP_PORT
LOCAL=$TMP/local3
mkdir -p "$LOCAL"
config INBOX Work
"$BIN" -D -c "$RC" --watch w >"$WLOG" 2>&1 &
watch_pid=$!
wait_for "with NOTIFY one connection watches both mailboxes" \
	log_has "NOTIFY for 2 mailbox(es), then IDLE"
deliver INBOX n-inbox
deliver Work n-work
wait_for "with NOTIFY a delivery to INBOX reaches the Maildir" \
	local_has INBOX n-inbox
wait_for "with NOTIFY a delivery to Work reaches the Maildir" \
	local_has Work n-work
printf 'SELECT Work\nSTORE 1 +FLAGS (\\Flagged)\n' | imapc >/dev/null
local_flagged() {
	find "$LOCAL/Work/cur" -type f -name '*:2,*F*' | grep -q .
}
wait_for "with NOTIFY a flag set on the server in Work reaches the Maildir" \
	local_flagged
expect_eq "the -D trace shows one NOTIFY SET" 1 \
	"$(grep -c '>> T[0-9]* NOTIFY SET' "$WLOG")"
expect_eq "with NOTIFY no mailbox IDLEs on a connection of its own" 0 \
	"$(grep -c "': IDLE\$" "$WLOG")"
kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "with NOTIFY the watcher exits 0 on SIGTERM" 0 $?
watch_pid=

# NOTIFY offered but refused (tests/tools/faultproxy answers it NO): a
# warning, and each mailbox IDLEs on a connection of its own.
rm -f "$TMP/proxy.port"
"$FAULTPROXY" --to "127.0.0.1:$IMAP_PORT" --port-file "$TMP/proxy.port" \
	--fault no --only NOTIFY --at 1 --max-seconds 600 \
	2>"$TMP/proxy.err" &
relay_pid=$!
for i in $(seq 200); do
	[ -s "$TMP/proxy.port" ] && break
	sleep 0.1
done
RELAY_PORT=$(cat "$TMP/proxy.port" 2>/dev/null)
# The proxy ends with its last connection: one held open keeps it up
# between the watcher's syncs.
exec 7<>"/dev/tcp/127.0.0.1/$RELAY_PORT"
config INBOX Work
"$BIN" -V -c "$RC" --watch w >"$WLOG" 2>&1 &
watch_pid=$!
wait_for "NOTIFY refused: a warning, and IDLE per mailbox instead" \
	log_has "warning: watch: store remote: .*NOTIFY.*injected; each watched mailbox IDLEs"
wait_for "NOTIFY refused: INBOX IDLEs" log_has "'INBOX': IDLE"
wait_for "NOTIFY refused: Work IDLEs" log_has "'Work': IDLE"
deliver Work n-refused
wait_for "NOTIFY refused: a delivery to Work reaches the Maildir" \
	local_has Work n-refused
kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "NOTIFY refused: the watcher exits 0 on SIGTERM" 0 $?
watch_pid=
exec 7>&-
stop_relay

# Maildir <-> Maildir: inotify on both sides (WatchInterval an hour), or,
# in a build without it, the periodic sync every 2 s.
A=$TMP/mda
B=$TMP/mdb
mkbox "$A/INBOX"
mkdir -p "$B"
if binary_has_inotify; then
	rc_maildir_pair "$A" "$B" >"$TMP/md.rc"
else
	rc_maildir_pair "$A" "$B" 2 >"$TMP/md.rc"
fi
# The watcher's first sync holds the pair lock (a hook at its first step)
# until a one-shot run started meanwhile says (-V) that it waits for the
# lock, at most 20 s; that run then syncs. (A hold of a fixed time would
# end before the one-shot run reached the lock on a busy machine.)
printf 'Message-ID: <md-first@watch.test>\n\nBody.\n' >"$A/INBOX/new/m0"
cat >"$TMP/wait-beside" <<'SH'
i=0
while ! grep -q 'waiting up to 30 s' "$1" 2>/dev/null && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
SH
TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="touch '$TMP/hooked'; \
sh '$TMP/wait-beside' '$TMP/beside.out'" \
	"$BIN" -V -c "$TMP/md.rc" --watch m >"$WLOG" 2>&1 &
watch_pid=$!
hooked() { [ -e "$TMP/hooked" ]; }
wait_for "the watcher's first sync is under way (holding the lock)" hooked
"$BIN" -V -c "$TMP/md.rc" m >"$TMP/beside.out" 2>&1
expect_eq "a one-shot run while the watcher holds the lock exits 0" 0 $?
if grep -q "waiting up to 30 s" "$TMP/beside.out"; then
	pass "that run said (-V) that it waits for the lock"
else
	fail "that run said (-V) that it waits for the lock" \
		"$(cat "$TMP/beside.out")"
fi
expect_eq "after both, the near side holds the message once" "md-first " \
	"$(local_ids "$B/INBOX")"
wait_for "Maildir <-> Maildir: the watcher watches INBOX" \
	log_has "watching mailbox 'INBOX'"
if binary_has_inotify; then
	expect_eq "Maildir <-> Maildir: no warning about inotify" "" \
		"$(grep "has no inotify" "$WLOG")"
else
	wait_for "Maildir <-> Maildir without inotify: the watcher says the \
periodic sync finds the changes" log_has "has no inotify"
fi
printf 'Message-ID: <md-far@watch.test>\n\nBody.\n' >"$A/INBOX/tmp/m1"
mv "$A/INBOX/tmp/m1" "$A/INBOX/new/m1"
md_near_has() { has_id "$(local_ids "$B/INBOX")" md-far; }
wait_for "Maildir <-> Maildir: a new far message reaches the near side" \
	md_near_has
md_far_flagged() {
	local f
	for f in "$A/INBOX/cur/"*; do
		case "$f" in *:2,*F*) return 0 ;; esac
	done
	return 1
}
f=$(find "$B/INBOX/new" "$B/INBOX/cur" -type f | head -n 1)
if [ -n "$f" ]; then
	mv "$f" "$B/INBOX/cur/$(basename "${f%%:2,*}"):2,F"
	wait_for "Maildir <-> Maildir: a near flag reaches the far side" \
		md_far_flagged
else
	fail "Maildir <-> Maildir: the near side holds the message"
fi
kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "Maildir <-> Maildir: the watcher exits 0 on SIGTERM" 0 $?
watch_pid=

# A server without IDLE: a warning, and the periodic sync (WatchInterval
# 2 s here) brings the mail.
NO_IDLE_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT UNSELECT \
CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED I18NLEVEL=1 CONDSTORE QRESYNC \
ESEARCH LIST-STATUS MOVE LITERAL+"
TEST_SERVER_CAPS=$NO_IDLE_CAPS start_dovecot "$TMP/srv2" alice
mkdir -p "$TMP/local2"
cat >"$TMP/noidle.rc" <<RC
IMAPAccount acc
Host 127.0.0.1
Port $IMAP_PORT
User alice
Pass secret
TLSType None
AuthMechs PLAIN

IMAPStore remote
Account acc

MaildirStore local
Path $TMP/local2/
Inbox $TMP/local2/INBOX

Channel n
Far :remote:
Near :local:
Create Near
SyncState *
WatchInterval 2
RC
"$BIN" -V -c "$TMP/noidle.rc" --watch n >"$WLOG" 2>&1 &
watch_pid=$!
wait_for "without IDLE the watcher says the mailbox waits for the periodic sync" \
	log_has "does not offer IDLE"
deliver INBOX no-idle
wait_for "without IDLE the periodic sync brings new mail" \
	eval 'has_id "$(local_ids "$TMP/local2/INBOX")" no-idle'
kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "without IDLE the watcher exits 0 on SIGTERM" 0 $?
watch_pid=

echo "watch: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
