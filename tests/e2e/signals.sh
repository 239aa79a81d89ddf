#!/bin/bash
# SIGINT, SIGTERM and SIGHUP stop a sync at its next durable point:
#  1. a Maildir <-> Maildir channel of three folders (1110 messages far,
#     in two copy batches for INBOX, and 5 near) receives a signal at
#     chosen steps of its first sync (TWINBOX_CRASH_AFTER=N with
#     TWINBOX_CRASH_SIGNAL: the signal arrives at exactly that step, from
#     the first journal record to the last; 11 cases); after each, the run
#     exits with 128 + the signal's number and says "interrupted; the next
#     run resumes" and nothing else on standard error; then a clean run
#     exits 0 with every message once on each side, and a dry run plans
#     nothing;
#  2. a real signal from outside while the binary waits for a server that
#     says nothing (a Tunnel that only sleeps, Timeout 30): it exits within
#     15 seconds of the signal (half the Timeout, a bound no load reaches:
#     the signal cuts the wait short) with the same message and status,
#     for each signal;
#  3. a real signal from outside in the middle of a first sync of 3000
#     messages from a private Dovecot (once the journal exists): the same
#     message and status, fewer than 3000 copied, and a clean run then
#     holds every message once. A run that gets to step 1500 first waits
#     there (TWINBOX_HOOK_AT) until the signal has been sent, so that no
#     machine is fast enough to end the sync before it.
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

# The first sync's starting point, copied afresh for every case.
S=$TMP/start
mkbox "$S/far/INBOX"
mkbox "$S/far/Work"
mkbox "$S/far/Trash"
mkbox "$S/near"
awk -v dir="$S/far/INBOX/cur" 'BEGIN {
	for (i = 1; i <= 1100; i++) {
		f = sprintf("%s/%d.m%d:2,%s", dir, 1000 + i, i, i % 3 ? "S" : "")
		printf "Subject: %d\nMessage-ID: <%d@sig.test>\n\nBody %d.\n", \
		    i, i, i > f
		close(f)
	}
}'
for i in 1 2 3 4 5; do
	printf 'Subject: w%s\nMessage-ID: <w%s@sig.test>\n\nW %s.\n' "$i" "$i" \
		"$i" >"$S/far/Work/cur/200$i.w$i:2,ST"
	printf 'Subject: n%s\nMessage-ID: <n%s@sig.test>\n\nN %s.\n' "$i" "$i" \
		"$i" >"$S/near/new/300$i.n$i"
done
printf 'Subject: t\nMessage-ID: <t@sig.test>\n\nT.\n' >"$S/far/Trash/new/4001.t"
TOTAL_IDS=$(find "$S" -type f -path '*/cur/*' -o -type f -path '*/new/*' |
	xargs sed -n 's/^Message-ID: //p' | sort)

W=$TMP/mm
cat >"$TMP/sync.rc" <<RC
FSync no

MaildirStore far
Path $W/far/
Inbox $W/far/INBOX
SubFolders Verbatim

MaildirStore near
Inbox $W/near
SubFolders Maildir++

Channel c
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
SyncState $W/state/
RC

# ids SIDE: every Message-ID under a side, one a line, sorted.
ids() {
	find "$W/$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) |
		xargs sed -n 's/^Message-ID: //p' | sort
}

# Both sides hold every message once but the Work ones, marked \Deleted
# at the start and expunged by Expunge Both.
expected_ids=$(printf '%s\n' "$TOTAL_IDS" | grep -v '^<w')

signo() {
	case "$1" in
	INT) echo 2 ;;
	HUP) echo 1 ;;
	TERM) echo 15 ;;
	esac
}

# case SIG N: the signal at step N of a first sync, then a clean run.
case_at() {
	local sig=$1 n=$2 what="$1 at step $2" status want
	rm -rf "$W"
	cp -a "$S" "$W"
	TWINBOX_CRASH_AFTER=$n TWINBOX_CRASH_SIGNAL=$sig timeout 120 "$BIN" \
		-c "$TMP/sync.rc" -a >"$TMP/int.out" 2>"$TMP/int.err"
	status=$?
	want=$((128 + $(signo "$sig")))
	expect_eq "$what: exit status" "$want" "$status"
	expect_eq "$what: standard error" \
		"twinbox: error: interrupted; the next run resumes" \
		"$(cat "$TMP/int.err")"
	timeout 120 "$BIN" -c "$TMP/sync.rc" -a >"$TMP/resume.out" \
		2>"$TMP/resume.err"
	expect_eq "$what: resumed run exit status" 0 "$?"
	expect_eq "$what: resumed run errors" "" "$(cat "$TMP/resume.err")"
	expect_eq "$what: far holds every message once" "$expected_ids" \
		"$(ids far)"
	expect_eq "$what: near holds every message once" "$expected_ids" \
		"$(ids near)"
	timeout 60 "$BIN" --dry-run -c "$TMP/sync.rc" -a >"$TMP/dry.out" 2>&1
	expect_eq "$what: dry run plans nothing" 3 \
		"$(grep -c 'dry run: nothing to do' "$TMP/dry.out")"
}

# The first sync takes 2227 steps: INBOX's two copy batches (1024 and 76
# messages, an intent and a result each, and a barrier per batch: steps
# 1025 and 2126), then the other folders, the expunges of Work, the limits.
for n in 1 1024 1025 1026 2050 2126 2227; do
	case_at TERM "$n"
done
case_at INT 2
case_at INT 1500
case_at HUP 1023
case_at HUP 2219

# ---- a real signal while waiting for a silent server --------------------

cat >"$TMP/silent.rc" <<RC
IMAPAccount silent
Tunnel "exec sleep 60"
Timeout 30

IMAPStore silent
Account silent

MaildirStore local
Path $TMP/silent/
Inbox $TMP/silent/INBOX

Channel s
Far :silent:
Near :local:
Patterns *
SyncState $TMP/silent/state/
RC
mkbox "$TMP/silent/INBOX"
for sig in INT TERM HUP; do
	"$BIN" -c "$TMP/silent.rc" s >"$TMP/silent.out" 2>"$TMP/silent.err" &
	pid=$!
	# The Tunnel command runs once the binary waits for its greeting.
	for _ in $(seq 100); do
		pgrep -P "$pid" >/dev/null && break
		sleep 0.05
	done
	sleep 0.3
	start=$(date +%s%N)
	kill -"$sig" "$pid"
	wait "$pid"
	status=$?
	elapsed=$((($(date +%s%N) - start) / 1000000))
	expect_eq "silent server, $sig: exit status" \
		$((128 + $(signo "$sig"))) "$status"
	expect_eq "silent server, $sig: standard error" \
		"twinbox: error: interrupted; the next run resumes" \
		"$(cat "$TMP/silent.err")"
	if [ "$elapsed" -lt 15000 ]; then
		pass "silent server, $sig: stopped in ${elapsed} ms"
	else
		fail "silent server, $sig: stopped after ${elapsed} ms"
	fi
done

# ---- a real signal in the middle of a sync against Dovecot -------------

start_dovecot "$TMP/srv"
bash "$SERVER" populate "$TMP/srv" alice 3000 1 >/dev/null || {
	echo "FAIL: populate" >&2
	exit 1
}
A=$MAIL_DIR/alice
D=$TMP/dove
cat >"$TMP/dove.rc" <<RC
FSync no

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
Inbox $D/INBOX

Channel d
Far :far:
Near :near:
Patterns INBOX
Create Near
SyncState $D/state/
RC

# dove_ids DIR: how many messages a Maildir folder holds, and a hash of
# their Message-IDs, sorted.
dove_ids() {
	find "$1/cur" "$1/new" -type f -exec grep -h -m1 -i '^Message-ID:' {} + |
		tr -d '\r' | sort | awk '{ print } END { print NR }' | md5sum
}
server_ids=$(dove_ids "$A")
# Step 1500 falls among the results of the first copy batch (its 1024
# messages written, 1976 left): a run that gets there before the signal
# waits (TWINBOX_HOOK_AT) until the signal has been sent, at most 20 s.
cat >"$TMP/wait-signal" <<'SH'
i=0
while [ ! -e "$1" ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
SH
for sig in TERM INT HUP; do
	rm -rf "$D" "$TMP/signalled"
	mkdir -p "$D/state"
	TWINBOX_HOOK_AT=1500 \
	    TWINBOX_HOOK_CMD="sh '$TMP/wait-signal' '$TMP/signalled'" \
	    "$BIN" -c "$TMP/dove.rc" d >"$TMP/dove.out" 2>"$TMP/dove.err" &
	pid=$!
	# The journal exists from the first copy batch to the end.
	for _ in $(seq 3000); do
		ls "$D/state/"*.journal >/dev/null 2>&1 && break
		sleep 0.01
	done
	kill -"$sig" "$pid"
	touch "$TMP/signalled"
	wait "$pid"
	status=$?
	expect_eq "Dovecot, $sig mid-sync: exit status" \
		$((128 + $(signo "$sig"))) "$status"
	expect_eq "Dovecot, $sig mid-sync: standard error" \
		"twinbox: error: interrupted; the next run resumes" \
		"$(cat "$TMP/dove.err")"
	got=$(find "$D/INBOX/cur" "$D/INBOX/new" -type f | wc -l)
	if [ "$got" -lt 3000 ]; then
		pass "Dovecot, $sig mid-sync: stopped with $got of 3000 copied"
	else
		fail "Dovecot, $sig mid-sync: the sync had ended"
	fi
	timeout 120 "$BIN" -c "$TMP/dove.rc" d >"$TMP/dove.out" 2>&1
	expect_eq "Dovecot, $sig mid-sync: resumed run exit status" 0 "$?"
	expect_eq "Dovecot, $sig mid-sync: near holds every message once" \
		"$server_ids" "$(dove_ids "$D/INBOX")"
done

echo "signals: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
