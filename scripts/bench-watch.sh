#!/bin/bash
# Benchmark watch mode (twinbox --watch): how soon a change on one side
# reaches the other, and what an idle watcher costs.
#
#   scripts/bench-watch.sh [N]          (default: 10 repetitions)
#
# Starts a private Dovecot on 127.0.0.1 (scripts/test-server.sh) and a
# watcher on an IMAP <-> Maildir channel over plain IMAP, then measures,
# N times each:
#  (d) delivery: from the answer to an APPEND to the server's INBOX
#      until the message's file is in the Maildir's INBOX;
#  (f) flag: a Maildir file renamed with F added (what a mail reader
#      does), until the server's copy carries \Flagged (read from
#      Dovecot's own Maildir file names, so no second session disturbs
#      the watcher);
# and once, with nothing changing for BENCH_IDLE seconds (default 30):
#  (c) the watcher's CPU time (user + system, /proc/PID/stat);
#  (w) the files written meanwhile under the Maildir (state included).
# Times are wall-clock, polled every 10 ms; the report gives the median
# and the maximum. This is a measurement, not a test: it exits 0 whatever
# the figures are (1 only when it cannot measure). See docs/benchmarks.md.
#
# The server loads Dovecot's notify plugin and offers NOTIFY, so the
# watcher uses it; BENCH_WATCH=idle makes it IDLE per mailbox instead
# (DisableExtensions NOTIFY).
#
# Environment: BENCH_IDLE (seconds), BENCH_WATCH (notify or idle),
# BENCH_RAW=FILE (keep every single measurement), BUILD.
set -u

PROG=bench-watch
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=${BUILD:-build}
N=${1:-10}
IDLE=${BENCH_IDLE:-30}
WATCH=${BENCH_WATCH:-notify}
BIN=$ROOT/$BUILD/twinbox
IMAPC=$ROOT/$BUILD/tests/tools/imapc
WORK=""
WATCH_PID=""

die() {
	echo "$PROG: $*" >&2
	exit 1
}

cleanup() {
	[ -n "$WATCH_PID" ] && kill -TERM "$WATCH_PID" 2>/dev/null &&
		wait "$WATCH_PID" 2>/dev/null
	[ -n "$WORK" ] || return 0
	timeout 60 bash "$ROOT/scripts/test-server.sh" stop "$WORK/srv" \
		>/dev/null 2>&1
	rm -rf "$WORK"
}

now_ms() {
	local t
	t=$(date +%s%N)
	echo $((t / 1000000))
}

# median_max NUMBERS...: "median max" (the lower median of an even count).
median_max() {
	printf '%s\n' "$@" | sort -n |
		awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[NR] }'
}

# poll COMMAND...: wait for COMMAND to succeed, at most 20 s; 1 if not.
poll() {
	local i
	for i in $(seq 2000); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}

setup() {
	if [ ! -x "$BIN" ] || [ ! -x "$IMAPC" ]; then
		die "build first: make build-all ($BIN, $IMAPC)"
	fi
	is_count "$N" || die "N must be a positive number, not '$N'"
	is_count "$IDLE" || die "BENCH_IDLE must be a positive number"
	WORK=$(mktemp -d) || die "cannot make a temporary directory"
	chmod 755 "$WORK"
	trap cleanup EXIT
	trap 'exit 1' INT TERM
	case $WATCH in
	notify | idle) ;;
	*) die "BENCH_WATCH must be notify or idle, not '$WATCH'" ;;
	esac
	TEST_SERVER_NOTIFY=1 bash \
		"$ROOT/scripts/test-server.sh" start "$WORK/srv" bench \
		>"$WORK/server.out" 2>&1 ||
		die "cannot start Dovecot: $(cat "$WORK/server.out")"
	# shellcheck source=/dev/null
	. "$WORK/srv/server.env"
	SRV_INBOX=$WORK/srv/mail/bench
	LOCAL=$WORK/local
	mkdir -p "$LOCAL"
	write_config
}

is_count() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ]
}

write_config() {
	cat >"$WORK/sync.rc" <<RC
IMAPAccount acc
Host 127.0.0.1
Port $IMAP_PORT
User bench
Pass secret
TLSType None
AuthMechs PLAIN
$([ "$WATCH" = idle ] && echo "DisableExtensions NOTIFY")

IMAPStore remote
Account acc

MaildirStore local
Path $LOCAL/
Inbox $LOCAL/INBOX

Channel w
Far :remote:
Near :local:
Create Near
SyncState *
RC
}

deliver() {
	printf 'From: b@bench.test\nSubject: %s\nMessage-ID: <%s@bench.test>\n\nBody.\n' \
		"$1" "$1" >"$WORK/msg"
	printf '@append INBOX %s ()\n' "$WORK/msg" |
		"$IMAPC" "$IMAP_PORT" bench secret >/dev/null 2>&1
}

local_file() {
	grep -l "<$1@bench.test>" "$LOCAL/INBOX/new/"* "$LOCAL/INBOX/cur/"* \
		2>/dev/null | head -n 1
}

local_has() {
	[ -n "$(local_file "$1")" ]
}

server_flagged() {
	local f
	f=$(grep -l "<$1@bench.test>" "$SRV_INBOX/cur/"* "$SRV_INBOX/new/"* \
		2>/dev/null | head -n 1)
	case "$f" in *:2,*F*) return 0 ;; esac
	return 1
}

log_has() {
	grep -q -- "$1" "$WORK/watch.log"
}

start_watcher() {
	deliver seed
	"$BIN" -V -c "$WORK/sync.rc" --watch w >"$WORK/watch.log" 2>&1 &
	WATCH_PID=$!
	if [ "$WATCH" = idle ]; then
		poll log_has "'INBOX': IDLE"
	else
		poll log_has "NOTIFY for 1 mailbox"
	fi || die "the watcher does not wait ($WATCH): $(tail "$WORK/watch.log")"
	poll local_has seed || die "the first sync did not finish"
	sleep 2	# the first sync's echo settles
}

raw() {
	[ -n "${BENCH_RAW:-}" ] && echo "$*" >>"$BENCH_RAW"
	return 0
}

# One delivery: its latency in ms.
one_delivery() {
	local id=d$1 t0
	deliver "$id" || die "cannot append to the server"
	t0=$(now_ms)
	poll local_has "$id" || die "message $id never reached the Maildir"
	echo $(($(now_ms) - t0))
}

# One flag: its latency in ms.
one_flag() {
	local id=d$1 f t0
	f=$(local_file "$id")
	[ -n "$f" ] || die "message $id is not in the Maildir"
	t0=$(now_ms)
	case "$f" in
	*/new/*) mv "$f" "$LOCAL/INBOX/cur/$(basename "${f%%:2,*}"):2,F" ;;
	*) mv "$f" "${f%%:2,*}:2,F${f##*:2,}" ;;
	esac
	poll server_flagged "$id" || die "the flag on $id never reached the server"
	echo $(($(now_ms) - t0))
}

measure_changes() {
	local i d f
	DELIVERY=()
	FLAG=()
	for i in $(seq "$N"); do
		d=$(one_delivery "$i") || exit 1
		sleep 1	# the sync's echo settles: each change is measured alone
		f=$(one_flag "$i") || exit 1
		sleep 1
		raw "delivery $i $d ms"
		raw "flag $i $f ms"
		DELIVERY+=("$d")
		FLAG+=("$f")
	done
}

ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

measure_idle() {
	local before after hz
	hz=$(getconf CLK_TCK)
	touch "$WORK/stamp"
	before=$(ticks "$WATCH_PID")
	sleep "$IDLE"
	after=$(ticks "$WATCH_PID")
	IDLE_MS=$(((after - before) * 1000 / hz))
	WRITTEN=$(find "$LOCAL" -newer "$WORK/stamp" -type f | wc -l)
}

report() {
	local d f
	d=$(median_max "${DELIVERY[@]}")
	f=$(median_max "${FLAG[@]}")
	echo "twinbox --watch ($WATCH), IMAP (Dovecot $(dovecot --version | cut -d' ' -f1), loopback) <-> Maildir, $N repetitions"
	echo "| measure | median | max |"
	echo "| --- | --- | --- |"
	echo "| (d) server delivery -> file in the Maildir | ${d% *} ms | ${d#* } ms |"
	echo "| (f) Maildir flag -> flag on the server | ${f% *} ms | ${f#* } ms |"
	echo "(c) idle CPU over $IDLE s: $IDLE_MS ms" \
		"($(awk -v c="$IDLE_MS" -v s="$IDLE" 'BEGIN { printf "%.3f", c / (s * 10) }')%)"
	echo "(w) files written under the Maildir while idle: $WRITTEN"
}

setup
start_watcher
measure_changes
measure_idle
report
