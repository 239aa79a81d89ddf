#!/bin/bash
# Benchmark twinbox against mbsync on the same corpus, in the same run.
#
#   scripts/bench.sh [N] [FOLDERS]      (defaults: 20000 messages, 10 folders)
#
# Starts a private Dovecot on 127.0.0.1 (scripts/test-server.sh), fills it
# with N generated messages (scripts/gen-mail.sh), and times each tool,
# each into its own fresh Maildir, over plain IMAP through a counting relay
# (tests/tools/relay) that measures the bytes on the wire. Rows: initial
# sync, no-op re-sync, re-sync after 1% flag changes on the server, re-sync
# after 1% deletions and 1% new messages on the server, and push of 1% flag
# changes made locally; for twinbox alone, twinbox --verify of the synced
# copy (mbsync has nothing like it), set against its initial sync. Each measurement is repeated BENCH_REPEAT times
# (default 3) and the median is reported. See docs/benchmarks.md.
#
# Environment: BENCH_REPEAT, BENCH_TIMEOUT (seconds allowed per tool run,
# default 1800), BENCH_RAW=FILE (keep every single measurement), BUILD.
set -u

PROG=bench
ROOT=$(cd "$(dirname "$0")/.." && pwd -P)
BUILD=${BUILD:-build}
N=${1:-20000}
FOLDERS=${2:-10}
REPEAT=${BENCH_REPEAT:-3}
RUN_TIMEOUT=${BENCH_TIMEOUT:-1800}
USER_NAME=bench
TOOLS="twinbox mbsync"
ROWS="initial noop verify server-flags server-delete-new push-flags"

WORK=""
RELAY_PID=""

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
}

# mbsync is the one package the build does not pull in.
need_mbsync() {
	command -v mbsync >/dev/null 2>&1 && return 0
	if [ "$(id -u)" -ne 0 ]; then
		say "mbsync is missing; as root, run:"
		say "  apt-get update && apt-get install -y isync"
		exit 1
	fi
	say "installing isync (mbsync)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends isync </dev/null >&2 || {
		apt-get update -q </dev/null >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends isync </dev/null >&2
	} || die "apt-get install isync failed"
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

# Let Dovecot index every mailbox and compute every message's size before
# anything is timed, and bring the message files into the page cache, so
# that whichever tool syncs first does not pay for the server's own
# catching up.
warm_server() {
	local box i=0
	message_files "$SERVER_MAIL" | tr '\n' '\0' |
		xargs -0 -r cat >/dev/null 2>&1
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

# The same messages in every tool's copy: chosen by folder and UID (both
# tools keep ",U=<uid>" in file names), leaving out what is marked deleted.
local_flag_change() {
	local tool=$1 mail=$WORK/$1/mail total want n
	total=$(message_files "$mail" | grep -c ',U=')
	want=$(one_percent "$total")
	n=$(message_files "$mail" | awk '
		{
			if (!match($0, /,U=[0-9]+/))
				next
			uid = substr($0, RSTART + 3, RLENGTH - 3)
			if (match($0, /:2,[A-Z]*T/))
				next
			dir = $0
			sub(/\/(cur|new)\/[^\/]*$/, "", dir)
			printf "%s\t%012d\t%s\n", dir, uid, $0
		}' | sort | cut -f3 | pick_evenly "$want" 0 | flag_toggles |
		apply_renames)
	say "$tool: toggled \\Flagged on $n of $total local messages"
}

# The same configuration for both tools, in mbsync 1.4's syntax except for
# the TLS keyword (twinbox reads both; SSLType is the older spelling).
write_config() {
	local tool=$1 port=$2 dir=$WORK/$1 tls="TLSType None"
	[ "$tool" = mbsync ] && tls="SSLType None"
	cat >"$dir/sync.rc" <<RC
FSync yes

IMAPAccount bench
Host 127.0.0.1
Port $port
User $USER_NAME
Pass $PASSWORD
$tls
AuthMechs LOGIN

IMAPStore server
Account bench

MaildirStore local
Path $dir/mail/
Inbox $dir/mail/INBOX
SubFolders Verbatim

Channel bench
Far :server:
Near :local:
Patterns *
Create Near
Expunge None
SyncState *
RC
}

# tool_command TOOL [ROW]: the verify row runs twinbox --verify.
tool_command() {
	case $1 in
	twinbox) [ "${2:-}" = verify ] &&
		echo "$TWINBOX -c $WORK/twinbox/sync.rc --verify -a" ||
		echo "$TWINBOX -c $WORK/twinbox/sync.rc -a" ;;
	mbsync) echo "mbsync -c $WORK/mbsync/sync.rc -a" ;;
	esac
}

start_relay() {
	local i=0
	rm -f "$WORK/relay.port" "$WORK/relay.stats"
	"$RELAY" --listen-port-file "$WORK/relay.port" \
		--to "127.0.0.1:$IMAP_PORT" --stats-file "$WORK/relay.stats" \
		--max-seconds $((RUN_TIMEOUT + 60)) 2>>"$WORK/relay.err" &
	RELAY_PID=$!
	while [ ! -s "$WORK/relay.port" ] && [ $i -lt 100 ]; do
		kill -0 "$RELAY_PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	[ -s "$WORK/relay.port" ] || die "the relay did not start"
	RELAY_PORT=$(cat "$WORK/relay.port")
}

# Sets RELAY_BYTES to "sent received" as counted by the relay.
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
	RELAY_BYTES=$(sed 's/^sent=\([0-9]*\) received=\([0-9]*\) .*/\1 \2/' \
		"$WORK/relay.stats")
}

# Value of KEY in rusage's "key=value ..." line.
rusage_field() {
	tr ' ' '\n' <"$WORK/rusage" | sed -n "s/^$1=//p"
}

# Run one tool once through a fresh relay (ROW: what to run, see
# tool_command). Sets RUN_LINE to "wall cpu maxrss_kb sent received";
# returns the tool's exit status.
run_tool() {
	local tool=$1 row=${2:-} rc
	# mbsync sleeps a second when a Maildir directory changed within the
	# current second; let the clock move on for every tool alike.
	sleep 2
	start_relay
	write_config "$tool" "$RELAY_PORT"
	# --foreground: an interrupt from the terminal reaches the tool too.
	"$RUSAGE" -o "$WORK/rusage" timeout --foreground -k 10 "$RUN_TIMEOUT" \
		$(tool_command "$tool" "$row") >"$WORK/$tool.out" 2>&1
	rc=$?
	stop_relay
	RUN_LINE="$(rusage_field wall) $(awk -v u="$(rusage_field user)" \
		-v s="$(rusage_field sys)" 'BEGIN { printf "%.3f", u + s }') \
$(rusage_field maxrss_kb) $RELAY_BYTES"
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
	mkdir -p "$WORK/$1/mail" || die "$WORK/$1/mail: cannot create"
}

# "Message-ID flags" of every message under a Maildir tree, sorted.
flag_digest() {
	message_files "$1" | tr '\n' '\0' | xargs -0 -r awk '
		FNR == 1 {
			done = 0
		}
		!done && tolower($1) == "message-id:" {
			flags = ""
			i = index(FILENAME, ":2,")
			if (i)
				flags = substr(FILENAME, i + 3)
			print $2, flags
			done = 1
			nextfile
		}' | sort
}

# Every message of the server, with the same flags, in the tool's copy.
# (Copies of messages deleted on the server stay, marked deleted, because
# both tools run with Expunge None.)
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

one_repeat() {
	local rep=$1 order=$TOOLS tool row
	[ $((rep % 2)) -eq 0 ] && order=$(echo "$TOOLS" | tr ' ' '\n' | tac)
	for tool in $order; do
		fresh_maildir "$tool" "$rep"
		measure initial "$tool" "$rep"
	done
	for tool in $order; do
		measure noop "$tool" "$rep"
	done
	# Exit 0 (the sides agree) or the run counts as failed.
	measure verify twinbox "$rep"
	server_flag_change
	warm_server
	for tool in $order; do
		measure server-flags "$tool" "$rep"
	done
	server_delete_and_add "$rep"
	warm_server
	for tool in $order; do
		measure server-delete-new "$tool" "$rep"
	done
	# Each push starts from a copy that has what the other tool pushed.
	for tool in $order; do
		catch_up "$tool"
		[ "${STATE[$tool]}" = ok ] || continue
		local_flag_change "$tool"
		measure push-flags "$tool" "$rep"
	done
}

machine_info() {
	local disk
	disk=$(df -PT "$WORK" | awk 'NR == 2 { printf "%s (%s), %.0f GiB", $1, $2, $3 / 1048576 }')
	echo "machine: $(nproc) CPUs ($(sed -n 's/^model name[^:]*: //p' \
		/proc/cpuinfo | head -n 1)), $(awk '/^MemTotal/ {
		printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM,"
	echo "  disk $disk, kernel $(uname -sr)"
	echo "versions: Dovecot $(dovecot --version | cut -d' ' -f1)," \
		"$(mbsync --version), twinbox" \
		"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null ||
			echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null ||
			echo ' (modified)')"
}

corpus_info() {
	local count bytes
	count=$(message_files "$SERVER_MAIL" | wc -l)
	bytes=$(message_files "$SERVER_MAIL" | tr '\n' '\0' |
		du -cb --files0-from=- | tail -n 1 | cut -f1)
	echo "corpus: $count messages, $((bytes / 1000000)) MB in $FOLDERS" \
		"folders; $REPEAT runs of each measurement, medians shown"
}

# The medians of the raw measurements as a Markdown table: per row, one
# line per tool and the ratio twinbox / mbsync.
print_table() {
	awk -F'\t' -v rows="$ROWS" -v tw="${STATE[twinbox]}" \
		-v mb="${STATE[mbsync]}" '
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
		# Seconds as they are; KiB of RSS and bytes on the wire in MiB/KiB.
		function value(m, v) {
			if (m >= 3)
				return sprintf("%.1f", v / 1024)
			return sprintf("%.2f", v)
		}
		function cells(row, tool, state,   m, s) {
			if (!((row, tool, 1) in vals)) {
				s = state == "ok" ? "no data" : "failed"
				return s " | | | | "
			}
			s = ""
			for (m = 1; m <= 5; m++) {
				med[tool, m] = median(vals[row, tool, m])
				s = s value(m, med[tool, m]) (m < 5 ? " | " : " ")
			}
			return s
		}
		# Medians of row over those of base, for twinbox alone.
		function against(row, base,   m, s, a, b) {
			if (!((row, "twinbox", 1) in vals) ||
			    !((base, "twinbox", 1) in vals))
				return "– | – | – | – | – "
			s = ""
			for (m = 1; m <= 5; m++) {
				a = median(vals[row, "twinbox", m])
				b = median(vals[base, "twinbox", m])
				s = s (b > 0 ? sprintf("%.2f", a / b) : "–")
				s = s (m < 5 ? " | " : " ")
			}
			return s
		}
		function ratios(row,   m, s) {
			if (!((row, "twinbox", 1) in vals) ||
			    !((row, "mbsync", 1) in vals))
				return "– | – | – | – | – "
			s = ""
			for (m = 1; m <= 5; m++) {
				if (med["mbsync", m] > 0)
					s = s sprintf("%.2f", med["twinbox", m] / \
					    med["mbsync", m])
				else
					s = s "–"
				s = s (m < 5 ? " | " : " ")
			}
			return s
		}
		{
			for (m = 1; m <= 5; m++) {
				key = $1 SUBSEP $2 SUBSEP m
				vals[key] = vals[key] " " $(3 + m)
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
			    " peak RSS MiB | sent KiB | received KiB |"
			print "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
			n = split(rows, order, " ")
			for (i = 1; i <= n; i++) {
				r = order[i]
				if (r == "verify") {
					print "| " label[r] " | twinbox | " \
					    cells(r, "twinbox", tw) "|"
					print "| | mbsync | (none) | | | | |"
					print "| | verify / initial sync | " \
					    against(r, "initial") "|"
					continue
				}
				print "| " label[r] " | twinbox | " \
				    cells(r, "twinbox", tw) "|"
				print "| | mbsync | " cells(r, "mbsync", mb) "|"
				print "| | twinbox / mbsync | " ratios(r) "|"
			}
		}' "$WORK/raw"
}

main() {
	check_args "$@"
	need_mbsync
	build
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	start_server
	declare -gA STATE=([twinbox]=ok [mbsync]=ok)
	CORPUS=$(corpus_info)
	say "$CORPUS"
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
	cat "$WORK/notes"
	[ "${STATE[mbsync]}" != failed ] && [ "${STATE[twinbox]}" != failed ]
}

main "$@"
