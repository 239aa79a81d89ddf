#!/bin/bash
# Benchmark twinbox against its peers (mbsync, interimap) on the same
# corpus, in the same run.
#
#   scripts/bench.sh [N] [FOLDERS]      (defaults: 20000 messages, 10 folders)
#
# Starts a private Dovecot on 127.0.0.1 (scripts/test-server.sh), fills it
# with N generated messages (scripts/gen-mail.sh), and times each tool,
# each into its own fresh Maildir, over plain IMAP through a counting relay
# (tests/tools/relay) that measures the bytes on the wire and the round
# trips (turns), and with BENCH_WAN plays a slow link. Rows: (a) initial
# sync, (b) no-op re-sync, (c) re-sync after 1% flag changes on the server,
# (d) re-sync after 1% deletions and 1% new messages on the server, (e)
# push of 1% flag changes made locally; for twinbox alone, (v) twinbox
# --verify of the synced copy, set against its initial sync. Each
# measurement is repeated BENCH_REPEAT times (default 3) and the median is
# reported. See docs/benchmarks.md.
#
# Environment: BENCH_REPEAT, BENCH_TIMEOUT (seconds allowed per tool run,
# default 1800), BENCH_RAW=FILE (keep every single measurement),
# BENCH_PEERS (default "mbsync interimap"), BENCH_WAN=DELAY_MS:RATE_KBIT
# (e.g. 25:20000), BENCH_COMPRESS=1 (the server offers COMPRESS=DEFLATE),
# BENCH_ROWS (letters of the rows to run, default "a b v c d e"),
# BENCH_SERVER=fast (Dovecot keeps login and imap processes ready), BUILD.
set -u

PROG=bench
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=${BUILD:-build}
N=${1:-20000}
FOLDERS=${2:-10}
REPEAT=${BENCH_REPEAT:-3}
RUN_TIMEOUT=${BENCH_TIMEOUT:-1800}
PEERS=${BENCH_PEERS-mbsync interimap}
WAN=${BENCH_WAN:-}
COMPRESS=${BENCH_COMPRESS:-0}
SERVER_MODE=${BENCH_SERVER:-default}
SERVER_FAST=0
ROW_LETTERS=${BENCH_ROWS:-a b v c d e}
USER_NAME=bench
TOOLS="twinbox $PEERS"
ROWS=""
RELAY_LINK=()

WORK=""
RELAY_PID=""
# shellcheck source=scripts/bench-peers.sh
. "$ROOT/scripts/bench-peers.sh"

die() {
	echo "$PROG: $*" >&2
	exit 1
}

say() {
	echo "$PROG: $*" >&2
}

is_count() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge "$2" ]
}

check_args() {
	[ $# -le 2 ] || die "usage: scripts/bench.sh [N] [FOLDERS]"
	is_count "$N" 100 || die "N must be a number of at least 100, not '$N'"
	is_count "$FOLDERS" 1 ||
		die "FOLDERS must be a positive number, not '$FOLDERS'"
	is_count "$REPEAT" 1 ||
		die "BENCH_REPEAT must be a positive number, not '$REPEAT'"
	is_count "$RUN_TIMEOUT" 10 ||
		die "BENCH_TIMEOUT must be at least 10 seconds, not '$RUN_TIMEOUT'"
	check_peers
	check_rows
	check_link
	[ "$COMPRESS" = 0 ] || [ "$COMPRESS" = 1 ] ||
		die "BENCH_COMPRESS must be 0 or 1, not '$COMPRESS'"
	[ "$SERVER_MODE" = default ] || [ "$SERVER_MODE" = fast ] ||
		die "BENCH_SERVER must be default or fast, not '$SERVER_MODE'"
	if [ "$SERVER_MODE" = fast ]; then
		SERVER_FAST=1
	fi
}

check_peers() {
	local p seen=" "
	for p in $PEERS; do
		case $p in
		mbsync | interimap) ;;
		*) die "BENCH_PEERS: unknown peer '$p' (known: mbsync interimap)" ;;
		esac
		case $seen in
		*" $p "*) die "BENCH_PEERS: '$p' named twice" ;;
		esac
		seen="$seen$p "
	done
}

# BENCH_ROWS letters to row names, in the order the rows run.
check_rows() {
	local l
	for l in $ROW_LETTERS; do
		case $l in
		a | b | v | c | d | e) ;;
		*) die "BENCH_ROWS: unknown row '$l' (rows: a b v c d e)" ;;
		esac
	done
	for l in a:initial b:noop v:verify c:server-flags \
		d:server-delete-new e:push-flags; do
		row_on "${l%%:*}" && ROWS="$ROWS ${l#*:}"
	done
	[ -n "$ROWS" ] || die "BENCH_ROWS names no row"
}

row_on() {
	case " $ROW_LETTERS " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# BENCH_WAN=DELAY_MS:RATE_KBIT, given to the relay of every run.
check_link() {
	[ -n "$WAN" ] || return 0
	local delay=${WAN%%:*} rate=${WAN#*:}
	is_count "$delay" 0 && is_count "$rate" 1 && [ "$WAN" = "$delay:$rate" ] ||
		die "BENCH_WAN must be DELAY_MS:RATE_KBIT (e.g. 25:20000), with" \
			"a rate of at least 1 kbit/s, not '$WAN'"
	RELAY_LINK=(--delay-ms "$delay" --rate-kbit "$rate")
}

link_info() {
	if [ -z "$WAN" ]; then
		echo "link: loopback through the counting relay (no delay, not paced)"
		return
	fi
	echo "link: the relay adds ${WAN%%:*} ms each way ($((2 * ${WAN%%:*})) ms" \
		"round trip) and paces each direction to ${WAN#*:} kbit/s" \
		"(BENCH_WAN=$WAN)"
}

# BENCH_SERVER=fast: test-server.sh's TEST_SERVER_FAST, the same server
# for every tool.
server_info() {
	if [ "$SERVER_MODE" = fast ]; then
		echo "server: login and imap processes kept ready and reused" \
			"(BENCH_SERVER=fast)"
	else
		echo "server: Dovecot's default process per login"
	fi
}

need_peers() {
	local p
	for p in $PEERS; do
		need_peer "$p"
	done
}

build() {
	make -C "$ROOT" --no-print-directory BUILD="$BUILD" >&2 ||
		die "make failed"
	make -C "$ROOT" --no-print-directory BUILD="$BUILD" \
		"$BUILD/twinbox" "$BUILD/tests/tools/relay" \
		"$BUILD/tests/tools/rusage" >&2 || die "make of the tools failed"
	TWINBOX=$ROOT/$BUILD/twinbox
	RELAY=$ROOT/$BUILD/tests/tools/relay
	RUSAGE=$ROOT/$BUILD/tests/tools/rusage
}

cleanup() {
	if [ -n "$RELAY_PID" ]; then
		kill -TERM "$RELAY_PID" 2>/dev/null
		wait "$RELAY_PID" 2>/dev/null
	fi
	if [ -n "$WORK" ]; then
		"$ROOT/scripts/test-server.sh" stop "$WORK/server" >/dev/null 2>&1
		rm -rf "$WORK"
	fi
}

start_server() {
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/twinbox-bench.XXXXXX") ||
		die "mktemp failed"
	chmod 755 "$WORK" || die "$WORK: cannot chmod"
	TEST_SERVER_COMPRESS=$COMPRESS TEST_SERVER_FAST=$SERVER_FAST \
		"$ROOT/scripts/test-server.sh" start "$WORK/server" "$USER_NAME" >&2 ||
		die "the test server did not start"
	. "$WORK/server/server.env"
	SERVER_MAIL=$MAIL_DIR/$USER_NAME
	say "generating $N messages in $FOLDERS folders"
	"$ROOT/scripts/test-server.sh" populate "$WORK/server" "$USER_NAME" \
		"$N" "$FOLDERS" 1 >&2 || die "populate failed"
}

# One line per message file of a Maildir++ or nested Maildir tree.
message_files() {
	find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | sort
}

# Dovecot's Maildir++ layout: INBOX at the root, the others as ".Name".
server_mailboxes() {
	local d name
	echo INBOX
	for d in "$SERVER_MAIL"/.[!.]*/; do
		name=${d%/}
		name=${name##*/.}
		[ -d "$d/cur" ] && echo "$name"
	done
}

# A line of a plain IMAP session; bash reads sockets a byte at a time, so
# only short answers are read this way.
imap_wait_tag() {
	local tag=$1 line
	while IFS= read -r -t 30 line <&3; do
		case $line in
		"$tag OK"*) return 0 ;;
		"$tag NO"* | "$tag BAD"*) say "IMAP: $line"; return 1 ;;
		esac
	done
	say "IMAP: no answer to $tag"
	return 1
}

# One IMAP session that selects every mailbox and fetches what the tools
# will ask for.
warm_session() {
	local box i=0
	exec 3<>"/dev/tcp/127.0.0.1/$IMAP_PORT" ||
		die "cannot connect to 127.0.0.1:$IMAP_PORT"
	imap_wait_tag '*' >/dev/null 2>&1
	printf 'a LOGIN %s %s\r\n' "$USER_NAME" "$PASSWORD" >&3
	imap_wait_tag a || die "IMAP login to the test server failed"
	while read -r box; do
		i=$((i + 1))
		printf 's%d SELECT "%s"\r\nf%d FETCH 1:* (FLAGS RFC822.SIZE INTERNALDATE BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\r\n' \
			"$i" "$box" "$i" >&3
	done < <(server_mailboxes)
	printf 'z LOGOUT\r\n' >&3
	timeout 300 grep -a -q -m1 '^z OK' <&3 ||
		die "the test server did not finish the warm-up session"
	exec 3<&-
}

# Let Dovecot index every mailbox and compute every message's size before
# anything is timed, and bring the message files into the page cache, so
# that whichever tool syncs first does not pay for the server's own
# catching up. Dovecot takes a Maildir directory changed within the last
# second for unfinished and lists it again at the next access, which
# would leave that listing to the first tool; so the warm-up starts two
# seconds after the last change of the server's files, and a second
# session follows two seconds after the first, whose SELECTs move new
# messages from new/ to cur/ within the second of their own listing.
warm_server() {
	sleep 2
	message_files "$SERVER_MAIL" | tr '\n' '\0' |
		xargs -0 -r cat >/dev/null 2>&1
	warm_session
	sleep 2
	warm_session
	# The server's writes (the messages just generated, its indexes) go
	# to the disk now: a real server writes to a disk of its own, and a
	# tool's flush of its own file system (syncfs()) would otherwise
	# wait for them too.
	sync
}

# COUNT lines of stdin, evenly spaced, the first at position OFFSET+1.
pick_evenly() {
	awk -v want="$1" -v off="$2" '
		{ line[NR] = $0 }
		END {
			step = int(NR / want)
			if (step < 1)
				step = 1
			for (i = off + 1; i <= NR && got < want; i += step) {
				print line[i]
				got++
			}
		}'
}

# Paths on stdin; prints "old<TAB>new" to toggle \Flagged on each, keeping
# the info letters sorted; a file in new/ moves to cur/ with ":2,F".
flag_toggles() {
	awk '
		function sorted(s,   n, i, j, c, a, out) {
			n = length(s)
			for (i = 1; i <= n; i++)
				a[i] = substr(s, i, 1)
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
					c = a[j]; a[j] = a[j - 1]; a[j - 1] = c
				}
			for (i = 1; i <= n; i++)
				out = out a[i]
			return out
		}
		{
			i = index($0, ":2,")
			if (i == 0) {
				to = $0
				sub(/\/new\//, "/cur/", to)
				print $0 "\t" to ":2,F"
				next
			}
			flags = substr($0, i + 3)
			if (index(flags, "F"))
				sub(/F/, "", flags)
			else
				flags = sorted(flags "F")
			print $0 "\t" substr($0, 1, i + 2) flags
		}'
}

apply_renames() {
	local from to n=0
	while IFS=$'\t' read -r from to; do
		mv "$from" "$to" || die "rename $from: failed"
		n=$((n + 1))
	done
	echo "$n"
}

one_percent() {
	local n=$(($1 / 100))
	[ "$n" -ge 1 ] || n=1
	echo "$n"
}

# Files keep their owner through a rename, so root may do this for the
# mail account: Dovecot sees the new flags at its next mailbox sync.
server_flag_change() {
	local total want n
	total=$(message_files "$SERVER_MAIL" | grep -c '/cur/')
	want=$(one_percent "$total")
	n=$(message_files "$SERVER_MAIL" | grep '/cur/' |
		pick_evenly "$want" 0 | flag_toggles | apply_renames)
	say "server: toggled \\Flagged on $n of $total messages"
}

own_server_files() {
	[ "$(id -u)" -eq 0 ] || return 0
	chown -R "$MAIL_OWNER" "$SERVER_MAIL" ||
		die "$SERVER_MAIL: cannot chown to $MAIL_OWNER"
}

# New messages from another seed of the same generator: other file names
# and Message-IDs, the same size distribution.
server_add_messages() {
	local count=$1 seed=$2 gen=$WORK/gen f rel
	rm -rf "$gen"
	sh "$ROOT/scripts/gen-mail.sh" "$gen" "$count" "$FOLDERS" "$seed" ||
		die "gen-mail.sh failed"
	while IFS= read -r f; do
		rel=${f#"$gen"/}
		mv "$f" "$SERVER_MAIL/$rel" || die "moving $f to the server failed"
	done < <(message_files "$gen")
	rm -rf "$gen"
	own_server_files
}

server_delete_and_add() {
	local rep=$1 total want n
	total=$(message_files "$SERVER_MAIL" | wc -l)
	want=$(one_percent "$total")
	message_files "$SERVER_MAIL" | pick_evenly "$want" 50 >"$WORK/victims"
	xargs -r -d '\n' rm -f <"$WORK/victims" ||
		die "deleting messages on the server failed"
	n=$(wc -l <"$WORK/victims")
	server_add_messages "$want" $((1000 + rep))
	say "server: deleted $n of $total messages, added $want"
}

# "Message-ID<TAB>path" of every message file under a Maildir tree.
message_ids() {
	message_files "$1" | tr '\n' '\0' | xargs -0 -r awk '
		FNR == 1 {
			done = 0
		}
		!done && tolower($1) == "message-id:" {
			print $2 "\t" FILENAME
			done = 1
			nextfile
		}'
}

# The Message-IDs whose flags row (e) toggles, the same for every tool: 1%
# of the server's messages not marked deleted, evenly spread over them in
# the order of folder and Message-ID. The tools' copies cannot be asked
# (interimap's local Dovecot names files its own way and numbers them with
# its own UIDs), the server can: each of its messages is in every copy
# under the same Message-ID (gen-mail.sh makes them unique).
push_victims() {
	local total want
	message_ids "$SERVER_MAIL" | awk -F'\t' '
		{
			if ($2 ~ /:2,[A-Z]*T[A-Z]*$/)
				next
			dir = $2
			sub(/\/(cur|new)\/[^\/]*$/, "", dir)
			print dir "\t" $1
		}' | sort >"$WORK/push.all"
	total=$(wc -l <"$WORK/push.all")
	want=$(one_percent "$total")
	pick_evenly "$want" 0 <"$WORK/push.all" | cut -f2 >"$WORK/push.ids"
}

# Toggle \Flagged on the chosen messages in the tool's own copy: the file
# of each chosen Message-ID that is not marked deleted (mbsync and twinbox
# keep copies of messages deleted on the server, marked T).
local_flag_change() {
	local tool=$1 mail=$WORK/$1/mail want n
	want=$(wc -l <"$WORK/push.ids")
	n=$(message_ids "$mail" | awk -F'\t' -v ids="$WORK/push.ids" '
		BEGIN {
			while ((getline id <ids) > 0)
				want[id] = 1
		}
		($1 in want) && $2 !~ /:2,[A-Z]*T[A-Z]*$/ {
			print $2
			delete want[$1]
		}' | flag_toggles | apply_renames)
	say "$tool: toggled \\Flagged on $n local messages ($want chosen)"
	[ "$n" -eq "$want" ] ||
		echo "WARNING: $tool's copy lacked $((want - n)) of the $want" \
			"messages chosen for (e)" >>"$WORK/notes"
}

start_relay() {
	local i=0
	rm -f "$WORK/relay.port" "$WORK/relay.stats"
	"$RELAY" --listen-port-file "$WORK/relay.port" \
		--to "127.0.0.1:$IMAP_PORT" --stats-file "$WORK/relay.stats" \
		--max-seconds $((RUN_TIMEOUT + 60)) "${RELAY_LINK[@]}" \
		2>>"$WORK/relay.err" &
	RELAY_PID=$!
	while [ ! -s "$WORK/relay.port" ] && [ $i -lt 100 ]; do
		kill -0 "$RELAY_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$WORK/relay.port" ] || die "the relay did not start"
	RELAY_PORT=$(cat "$WORK/relay.port")
}

# Sets RELAY_COUNTS to "sent received turns" as counted by the relay.
stop_relay() {
	local rc
	kill -TERM "$RELAY_PID" 2>/dev/null
	wait "$RELAY_PID"
	rc=$?
	RELAY_PID=""
	if [ $rc -ne 0 ] || [ ! -s "$WORK/relay.stats" ]; then
		cat "$WORK/relay.err" >&2
		die "the relay failed (status $rc)"
	fi
	RELAY_COUNTS=$(sed -n \
		's/^sent=\([0-9]*\) received=\([0-9]*\) turns=\([0-9]*\) .*/\1 \2 \3/p' \
		"$WORK/relay.stats")
	[ -n "$RELAY_COUNTS" ] || die "the relay's stats line is not" \
		"understood: $(cat "$WORK/relay.stats")"
}

# Value of KEY in rusage's "key=value ..." line.
rusage_field() {
	tr ' ' '\n' <"$WORK/rusage" | sed -n "s/^$1=//p"
}

# Run one tool once through a fresh relay (ROW: what to run, see
# tool_command). Sets RUN_LINE to "wall cpu maxrss_kb sent received turns";
# returns the tool's exit status.
run_tool() {
	local tool=$1 row=${2:-} rc
	# mbsync sleeps a second when a Maildir directory changed within the
	# current second, and twinbox lists a Maildir folder whose directory
	# times are less than 3 s old instead of trusting its stamp; let the
	# clock move on for every tool alike.
	sleep 4
	start_relay
	write_config "$tool" "$RELAY_PORT"
	# --foreground: an interrupt from the terminal reaches the tool too.
	"$RUSAGE" -o "$WORK/rusage" timeout --foreground -k 10 "$RUN_TIMEOUT" \
		$(tool_command "$tool" "$row") >"$WORK/$tool.out" 2>&1
	rc=$?
	stop_relay
	RUN_LINE="$(rusage_field wall) $(awk -v u="$(rusage_field user)" \
		-v s="$(rusage_field sys)" 'BEGIN { printf "%.3f", u + s }') \
$(rusage_field maxrss_kb) $RELAY_COUNTS"
	return $rc
}

# A failed run takes the tool out of the rest of the benchmark.
tool_failed() {
	local tool=$1 rc=$2
	STATE[$tool]=failed
	say "$tool failed (exit status $rc); last lines of its output:"
	tail -n 20 "$WORK/$tool.out" >&2
}

measure() {
	local row=$1 tool=$2 rep=$3 rc
	[ "${STATE[$tool]}" = ok ] || return 0
	say "$tool: $row (run $rep of $REPEAT)"
	run_tool "$tool" "$row"
	rc=$?
	if [ $rc -ne 0 ]; then
		tool_failed "$tool" "$rc"
		return 0
	fi
	printf '%s\t%s\t%s\t%s\n' "$row" "$tool" "$rep" "$RUN_LINE" |
		tr ' ' '\t' >>"$WORK/raw"
	verify_copy "$tool" "$row" "$rep"
}

# An untimed sync, to bring a tool's copy up to date with the server.
catch_up() {
	local tool=$1 rc
	[ "${STATE[$tool]}" = ok ] || return 0
	run_tool "$tool"
	rc=$?
	[ $rc -eq 0 ] || tool_failed "$tool" "$rc"
}

# The previous copy is moved aside, not deleted: on ext4, creating files
# soon after tens of thousands were deleted costs about half a
# millisecond of kernel CPU each (measured here: 2.7 s of system time for
# an initial sync into a fresh tree, 8.8 s right after deleting the
# previous copy), which would time the file system's inode reuse rather
# than the tools. The copies are deleted at the end (cleanup).
fresh_maildir() {
	local old=$WORK/old/$1.$2
	if [ -d "$WORK/$1" ]; then
		mkdir -p "$WORK/old" && mv "$WORK/$1" "$old" ||
			die "$WORK/$1: cannot move aside"
	fi
	prepare_copy "$1"
}

# "Message-ID flags" of every message under a Maildir tree, sorted.
flag_digest() {
	message_ids "$1" | awk -F'\t' '
		{
			flags = ""
			i = index($2, ":2,")
			if (i)
				flags = substr($2, i + 3)
			print $1, flags
		}' | sort
}

# Every message of the server, with the same flags, in the tool's copy.
# (Copies of messages deleted on the server stay, marked deleted, in
# twinbox's and mbsync's, which run with Expunge None; interimap has no
# such option and removes them.)
verify_copy() {
	local tool=$1 row=$2 rep=$3 missing
	[ "${STATE[$tool]}" = ok ] || return 0
	flag_digest "$SERVER_MAIL" >"$WORK/digest.server"
	flag_digest "$WORK/$tool/mail" >"$WORK/digest.$tool"
	missing=$(comm -23 "$WORK/digest.server" "$WORK/digest.$tool" | wc -l)
	[ "$missing" -eq 0 ] && return 0
	echo "WARNING: after $row (run $rep), $missing server messages are" \
		"missing or have other flags in $tool's copy" >>"$WORK/notes"
	say "WARNING: $tool: $missing messages missing or with other flags"
}

# The order of the tools rotates from one repeat to the next, so that no
# tool always runs first after a change of the server.
tool_order() {
	local rep=$1 n
	n=$(echo "$TOOLS" | wc -w)
	echo "$TOOLS" | tr ' ' '\n' | grep . |
		awk -v r="$(((rep - 1) % n))" -v n="$n" '
		{ t[NR - 1] = $0 }
		END { for (i = 0; i < n; i++) print t[(i + r) % n] }'
}

one_repeat() {
	local rep=$1 order tool
	order=$(tool_order "$rep")
	for tool in $order; do
		fresh_maildir "$tool" "$rep"
		if row_on a; then
			measure initial "$tool" "$rep"
		else
			catch_up "$tool"
		fi
	done
	if row_on b; then
		# An untimed sync first: what a tool records after a run that
		# changed its copy (twinbox: a Maildir folder's mark) needs a
		# run that did not; the timed one is the steady state.
		for tool in $order; do
			catch_up "$tool"
		done
		for tool in $order; do
			measure noop "$tool" "$rep"
		done
	fi
	# Exit 0 (the sides agree) or the run counts as failed.
	row_on v && measure verify twinbox "$rep"
	if row_on c; then
		server_flag_change
		warm_server
		for tool in $order; do
			measure server-flags "$tool" "$rep"
		done
	fi
	if row_on d; then
		server_delete_and_add "$rep"
		warm_server
		for tool in $order; do
			measure server-delete-new "$tool" "$rep"
		done
	fi
	row_on e || return 0
	# Each push starts from a copy that has what the tool before pushed.
	push_victims
	for tool in $order; do
		catch_up "$tool"
		[ "${STATE[$tool]}" = ok ] || continue
		local_flag_change "$tool"
		measure push-flags "$tool" "$rep"
	done
}

# Whether the kernel pages idle memory out behind the tools' backs
# (DAMON's pageout action, or damon_reclaim): page cache that no process
# maps counts as idle, so every run then reads its directories, and the
# server's programs, from the disk again (docs/benchmarks.md).
reclaim_info() {
	local k a on=
	for k in /sys/kernel/mm/damon/admin/kdamonds/*/; do
		[ "$(cat "${k}state" 2>/dev/null)" = on ] || continue
		for a in "$k"contexts/*/schemes/*/action; do
			[ "$(cat "$a" 2>/dev/null)" = pageout ] && on=1
		done
	done
	case $(cat /sys/module/damon_reclaim/parameters/enabled 2>/dev/null) in
	Y|1) on=1 ;;
	esac
	if [ -n "$on" ]; then
		echo "page cache: DAMON pages idle memory out" \
			"(cold caches every run)"
	else
		echo "page cache: no DAMON reclaim"
	fi
}

machine_info() {
	local disk p versions
	disk=$(df -PT "$WORK" | awk 'NR == 2 { printf "%s (%s), %.0f GiB", $1, $2, $3 / 1048576 }')
	echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' \
		/proc/cpuinfo | head -n 1)), $(awk '/^MemTotal/ {
		printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM,"
	echo "  disk $disk, kernel $(uname -sr)"
	reclaim_info
	versions="Dovecot $(dovecot --version | cut -d' ' -f1)"
	for p in $PEERS; do
		versions="$versions, $(peer_version "$p")"
	done
	echo "versions: $versions, twinbox" \
		"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null ||
			echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null ||
			echo ' (modified)')"
	link_info
	server_info
	if [ "$COMPRESS" = 1 ]; then
		echo "compression: the server offers COMPRESS=DEFLATE (imap_zlib," \
			"BENCH_COMPRESS=1); every tool may use it"
	else
		echo "compression: none offered (Dovecot without imap_zlib)"
	fi
}

# Also leaves the corpus's size in bytes in WORK/corpus.bytes.
corpus_info() {
	local count bytes
	count=$(message_files "$SERVER_MAIL" | wc -l)
	bytes=$(message_files "$SERVER_MAIL" | tr '\n' '\0' |
		du -cb --files0-from=- | tail -n 1 | cut -f1)
	echo "$bytes" >"$WORK/corpus.bytes"
	echo "corpus: $count messages, $((bytes / 1000000)) MB in $FOLDERS" \
		"folders; $REPEAT runs of each measurement, medians shown"
}

# "tool=state ..." for the table.
tool_states() {
	local t out=""
	for t in $TOOLS; do
		out="$out $t=${STATE[$t]}"
	done
	echo "$out"
}

# The medians of the raw measurements as a Markdown table: per row, one
# line per tool and the ratios twinbox / each peer.
print_table() {
	awk -F'\t' -v rows="$ROWS" -v tools="$TOOLS" -v states="$(tool_states)" '
		function median(list,   n, a, i, j, c) {
			n = split(list, a, " ")
			if (n == 0)
				return ""
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
					c = a[j]; a[j] = a[j - 1]; a[j - 1] = c
				}
			if (n % 2)
				return a[(n + 1) / 2]
			return (a[n / 2] + a[n / 2 + 1]) / 2
		}
		# Seconds as they are; KiB of RSS and bytes on the wire in
		# MiB/KiB; turns as a count.
		function value(m, v) {
			if (m == NM)
				return sprintf("%g", v)
			if (m >= 3)
				return sprintf("%.1f", v / 1024)
			return sprintf("%.2f", v)
		}
		function has(row, tool) {
			return (row, tool, 1) in vals
		}
		function cells(row, tool,   m, s) {
			if (!has(row, tool)) {
				s = state[tool] == "ok" ? "no data" : "failed"
				return s " |" blanks
			}
			s = ""
			for (m = 1; m <= NM; m++)
				s = s value(m, median(vals[row, tool, m])) \
				    (m < NM ? " | " : " ")
			return s
		}
		# twinbox medians of row over those of tool b in row base.
		function ratios(row, b, base,   m, s, x, y) {
			if (!has(row, "twinbox") || !has(base, b))
				return substr(dashes, 3)
			s = ""
			for (m = 1; m <= NM; m++) {
				x = median(vals[row, "twinbox", m])
				y = median(vals[base, b, m])
				s = s (y > 0 ? sprintf("%.2f", x / y) : "–")
				s = s (m < NM ? " | " : " ")
			}
			return s
		}
		{
			for (m = 1; m <= NM; m++) {
				key = $1 SUBSEP $2 SUBSEP m
				vals[key] = vals[key] " " $(3 + m)
			}
		}
		BEGIN {
			NM = 6
			for (m = 1; m < NM; m++)
				blanks = blanks " |"
			for (m = 1; m <= NM; m++)
				dashes = dashes " – |"
			ntools = split(tools, tool, " ")
			n = split(states, st, " ")
			for (i = 1; i <= n; i++) {
				split(st[i], kv, "=")
				state[kv[1]] = kv[2]
			}
		}
		END {
			label["initial"] = "(a) initial sync"
			label["noop"] = "(b) no-op re-sync"
			label["verify"] = "(v) --verify of the synced copy"
			label["server-flags"] = "(c) 1% flags changed on the server"
			label["server-delete-new"] = \
			    "(d) 1% deleted + 1% new on the server"
			label["push-flags"] = "(e) push of 1% local flag changes"
			print "| scenario | tool | wall s | CPU s (user+sys) |" \
			    " peak RSS MiB | sent KiB | received KiB | turns |"
			print "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
			n = split(rows, order, " ")
			for (i = 1; i <= n; i++) {
				r = order[i]
				print "| " label[r] " | twinbox | " \
				    cells(r, "twinbox") "|"
				if (r == "verify") {
					print "| | verify / initial sync | " \
					    ratios(r, "twinbox", "initial") "|"
					continue
				}
				for (t = 2; t <= ntools; t++)
					print "| | " tool[t] " | " \
					    cells(r, tool[t]) "|"
				for (t = 2; t <= ntools; t++)
					print "| | twinbox / " tool[t] " | " \
					    ratios(r, tool[t], r) "|"
			}
		}' "$WORK/raw"
}

# With BENCH_COMPRESS=1: who compressed, told by the bytes each tool
# received in its initial sync against the corpus's size (uncompressed,
# the wire carries about 3% more than the files: CRLF and the protocol).
compression_report() {
	local bytes t got
	[ "$COMPRESS" = 1 ] || return 0
	row_on a || { echo "compression: row (a) not run, so not told"; return 0; }
	bytes=$(cat "$WORK/corpus.bytes")
	echo
	for t in $TOOLS; do
		got=$(awk -F'\t' -v t="$t" '$1 == "initial" && $2 == t {
			print $8; exit }' "$WORK/raw")
		[ -n "$got" ] || continue
		awk -v t="$t" -v got="$got" -v all="$bytes" 'BEGIN {
			r = got / all
			printf "%s received %.2f times the corpus'\''s bytes in" \
			    " (a): %s\n", t, r, r < 0.8 ? "compressed" : \
			    "not compressed"
		}'
	done
}

main() {
	check_args "$@"
	need_peers
	build
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	start_server
	declare -gA STATE=()
	local t
	for t in $TOOLS; do
		STATE[$t]=ok
	done
	CORPUS=$(corpus_info)
	say "$CORPUS"
	say "$(link_info)"
	say "warming up the server"
	warm_server
	: >"$WORK/raw"
	: >"$WORK/notes"
	local rep
	for rep in $(seq 1 "$REPEAT"); do
		one_repeat "$rep"
	done
	[ -n "${BENCH_RAW:-}" ] && cp "$WORK/raw" "$BENCH_RAW"
	echo
	machine_info
	echo "$CORPUS"
	echo
	print_table
	compression_report
	cat "$WORK/notes"
	for t in $TOOLS; do
		[ "${STATE[$t]}" != failed ] || return 1
	done
}

main "$@"
