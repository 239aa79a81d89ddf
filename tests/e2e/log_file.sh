#!/bin/bash
# --log-file and LogFile on Maildir <-> Maildir channels (no server):
#  - a log file that cannot be opened (its directory missing, or a
#    directory), named by --log-file or by LogFile, is an error naming the
#    file: exit 2, nothing synced, no state written;
#  - --log-file FILE: the terminal shows exactly what a twin run without
#    it shows; FILE is created mode 0600 and holds those lines and the
#    detail (-V, -D) the terminal did not show, each after an ISO 8601 UTC
#    timestamp with milliseconds; the next run appends to it;
#  - with -D the terminal shows every line the file holds;
#  - LogFile does the same as --log-file; --log-file wins over it; an
#    existing file keeps its mode;
#  - a watcher's log file renamed (a rotation), then SIGHUP: the file is
#    opened again under its name and the renamed one gets no more lines.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '

# case_dir NAME [RC-LINE...]: a channel "md" in TMP/NAME between two
# Maildirs, three messages far, its sync.rc starting with the RC-LINEs.
case_dir() {
	local d=$TMP/$1 line i
	shift
	for b in far/INBOX far/Work near; do
		mkbox "$d/$b"
	done
	for i in 1 2 3; do
		printf 'Message-ID: <%s@log.test>\nSubject: %s\n\nBody.\n' \
			"$i" "$i" >"$d/far/INBOX/cur/$i.m:2,S"
	done
	mkdir -p "$d/state"
	{
		for line in "$@"; do
			printf '%s\n' "$line"
		done
		cat <<RC
SyncState $d/state/

MaildirStore far
Path $d/far/
Inbox $d/far/INBOX
SubFolders Verbatim

MaildirStore near
Path $d/near/
Inbox $d/near/INBOX
SubFolders Verbatim

Channel md
Far :far:
Near :near:
Patterns *
Create Near
RC
	} >"$d/sync.rc"
}

# tb NAME OUT ARGS...: a run on TMP/NAME's channel, stdout and stderr in
# OUT.out and OUT.err; status in $status.
tb() {
	local d=$TMP/$1 out=$TMP/$2
	shift 2
	timeout 60 "$BIN" -c "$d/sync.rc" "$@" md >"$out.out" 2>"$out.err"
	status=$?
}

# synced NAME: the messages near (0 when nothing was synced).
synced() {
	find "$TMP/$1/near" -path '*/cur/*' -type f | wc -l
}

# refused NAME LOGFILE ARGS...: the run fails before syncing anything.
refused() {
	local name=$1 log=$2
	shift 2
	tb "$name" "$name" "$@"
	expect_eq "$name: exit status" 2 "$status"
	expect_eq "$name: the error names the file" 1 \
		"$(grep -c "^twinbox: error: cannot open the log file $log: .*; name a file that can be written with --log-file or LogFile\$" \
		"$TMP/$name.err")"
	expect_eq "$name: nothing synced" 0 "$(synced "$name")"
	expect_eq "$name: no state written" 0 \
		"$(find "$TMP/$name/state" -type f | wc -l)"
}

case_dir nodir
refused nodir "$TMP/missing/run.log" --log-file "$TMP/missing/run.log"
case_dir isdir
refused isdir "$TMP/isdir" --log-file "$TMP/isdir"
case_dir keydir "LogFile $TMP/missing/key.log"
refused keydir "$TMP/missing/key.log"

# --log-file against a twin run without it.
case_dir plain
case_dir logged
tb plain plain
expect_eq "twin run: exit status" 0 "$status"
tb logged logged --log-file "$TMP/run.log"
expect_eq "--log-file: exit status" 0 "$status"
expect_eq "--log-file: three messages synced" 3 "$(synced logged)"
# The run total ends in the run's duration, which twins need not share.
untimed() {
	sed -E 's/^(twinbox: [0-9]+ mailbox pairs: .*); [0-9.]+ s$/\1; T s/' "$@"
}
expect_eq "--log-file: the terminal's output unchanged" \
	"$(untimed "$TMP/plain.out"; echo ---; untimed "$TMP/plain.err")" \
	"$(untimed "$TMP/logged.out"; echo ---; untimed "$TMP/logged.err")"
expect_eq "--log-file: created mode 600" 600 "$(stat -c %a "$TMP/run.log")"
expect_eq "--log-file: a timestamp on every line" 0 \
	"$(grep -cvE "$STAMP" "$TMP/run.log")"
sed -E "s/$STAMP//" "$TMP/run.log" | sort >"$TMP/run.sorted"
expect_eq "--log-file: every line of the terminal in it" "" \
	"$(sort "$TMP/logged.out" "$TMP/logged.err" |
	comm -23 - "$TMP/run.sorted")"
expect_eq "--log-file: the detail of -V and -D in it too" 1 \
	"$(grep -cx 'md:INBOX: copy far->near uid 1 (flags S)' \
	"$TMP/run.sorted")"
lines=$(wc -l <"$TMP/run.log")
saved=$(cat "$TMP/run.log")

# -D: the terminal shows all the file holds; the file grows.
echo "new" >"$TMP/logged/far/INBOX/cur/4.m:2,"
tb logged debug -D --log-file "$TMP/run.log"
expect_eq "-D --log-file: exit status" 0 "$status"
expect_eq "-D --log-file: the file's new lines on the terminal" \
	"$(tail -n +$((lines + 1)) "$TMP/run.log" | sed -E "s/$STAMP//" |
	sort)" "$(sort "$TMP/debug.out" "$TMP/debug.err")"
expect_eq "-D --log-file: the first run's lines kept" "$saved" \
	"$(head -n "$lines" "$TMP/run.log")"
expect_eq "-D --log-file: appended" 1 \
	"$([ "$(wc -l <"$TMP/run.log")" -gt "$lines" ] && echo 1)"

# LogFile, an existing file's mode, and --log-file winning over LogFile.
case_dir key "LogFile $TMP/key.log"
: >"$TMP/key.log"
chmod 640 "$TMP/key.log"
tb key key
expect_eq "LogFile: exit status" 0 "$status"
expect_eq "LogFile: the summaries in it" 2 \
	"$(grep -cE "${STAMP}md:(INBOX|Work): (far->near|up to date)" \
	"$TMP/key.log")"
expect_eq "LogFile: an existing file keeps its mode" 640 \
	"$(stat -c %a "$TMP/key.log")"
before=$(cat "$TMP/key.log")
echo "new" >"$TMP/key/far/INBOX/cur/4.m:2,"
tb key key2 --log-file "$TMP/over.log"
expect_eq "--log-file over LogFile: exit status" 0 "$status"
expect_eq "--log-file over LogFile: LogFile untouched" "$before" \
	"$(cat "$TMP/key.log")"
expect_eq "--log-file over LogFile: the run in --log-file" 1 \
	"$(grep -cE "${STAMP}md:INBOX: far->near: 1 copied" "$TMP/over.log")"

# A watcher's log file after a rotation: SIGHUP opens it again under its
# name, and the renamed file gets no more lines.
case_dir watched
WLOG=$TMP/watched.log
"$BIN" -c "$TMP/watched/sync.rc" --log-file "$WLOG" --watch md \
	>"$TMP/watched.out" 2>&1 &
watch_pid=$!
cleanup_more() {
	[ -n "$watch_pid" ] && kill -KILL "$watch_pid" 2>/dev/null
}
wait_for "--watch --log-file: the watcher logs" \
	grep -q "watching mailbox 'INBOX'" "$WLOG"
mv "$WLOG" "$WLOG.1"
kill -HUP "$watch_pid"
wait_for "--watch --log-file: SIGHUP opens the file again" \
	grep -q "watching mailbox 'INBOX'" "$WLOG"
rotated=$(cat "$WLOG.1")
kill -TERM "$watch_pid"
wait "$watch_pid"
expect_eq "--watch --log-file: exit status after TERM" 0 $?
watch_pid=
expect_eq "--watch --log-file: the end in the new file" 1 \
	"$(grep -cE "${STAMP}watch: stopped by signal 15" "$WLOG")"
expect_eq "--watch --log-file: nothing more in the renamed file" \
	"$rotated" "$(cat "$WLOG.1")"
expect_eq "--watch --log-file: the renamed file ends at the SIGHUP" 1 \
	"$(tail -n 1 "$WLOG.1" | grep -c 'SIGHUP: reading the configuration')"

echo "log_file.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
