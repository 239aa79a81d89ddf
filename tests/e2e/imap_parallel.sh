#!/bin/bash
# Mailboxes synced in parallel (Connections 3) against a private Dovecot:
# an IMAP (far) <-> Maildir (near) channel of eight folders, each changed
# on both sides (a new message, a flag, a deletion on each side).
#  1. the parallel run gives what the sequential run (Connections 1) of
#     the same trees gives: the same messages and flags on both sides, the
#     same per-mailbox lines (in any order), the same --ext-exit status;
#     the protocol log (-D) holds two or three logins (the first
#     connection's first step waits for a second login; a third connection
#     that no mailbox is left for is abandoned), one LIST and one
#     NAMESPACE (the connections that sync mailboxes another one listed
#     do not list them again, nor ask for the namespace it was told), and
#     a second run changes nothing;
#  2. crash sweep: the parallel run killed at every step N
#     (TWINBOX_CRASH_AFTER=N, N from 1 until the run ends by itself), then
#     run again in parallel: no message lost or duplicated, both sides
#     hold the sequential result, a dry run plans nothing;
#  3. SIGTERM at a few steps (TWINBOX_CRASH_SIGNAL=TERM): exit 143 with
#     the one "interrupted" line and no other error, then a clean run
#     reaches the sequential result;
#  4. through tests/tools/faultproxy, the connection that carries the
#     third SELECT is dropped: exactly one mailbox fails (exit 1, one error
#     line), the seven others are synced by the other connections, and a
#     clean run reaches the sequential result;
#  5. flags changed on the server alone (plans that rename near files
#     only): with one connection (the plan looked one step ahead) and with
#     three (workers), on each connection every SELECT but the first goes
#     out before the mailbox selected last is done, and the result is the
#     same; a crash sweep over both runs, SIGTERM (as in 3) at every
#     fourth step of the first and at three of the second; and a one-
#     connection run whose next pairs another
#     process holds locked at its first step: they are not begun early,
#     their lock is waited for (LockWait), the run exits 0; each of its
#     eight SELECTs refused, then dropped with its connection: that one
#     mailbox fails, the others are synced, a clean run completes; and
#     with one connection, another client expunging or delivering in the
#     mailbox of each SELECT sent early, as the server answers it: a
#     clean run then leaves both sides alike, nothing else lost.
# The server's side is read from the Maildir files Dovecot keeps for the
# user; every case gets a fresh Dovecot user whose Maildir is a copy of a
# prepared tree, and a fresh copy of the near Maildir (with its state).
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path MAILSUM mailsum
tool_path PROXY faultproxy
proxy_pid=
cleanup_more() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
}
E2E_QUIET_PASS=1

# Every user is made at start (Dovecot rereads its passwd-file by mtime).
MAXUSERS=400
start_dovecot "$TMP/srv" $(seq -f 'p%g' $MAXUSERS)

BOXES="A B C D E F G"

# mkmsg FILE ID: a small message with Message-ID <ID@par.test>.
mkmsg() {
	printf 'From: s@par.test\nSubject: %s\nMessage-ID: <%s@par.test>\n\nBody of %s,\nwith two lines.\n' \
	    "$2" "$2" "$2" >"$1"
}

# The far side (Maildir++ as Dovecot keeps it): INBOX and A..G, four
# messages each; the near side (Verbatim): one message of its own in each.
make_trees() {
	local far=$1 near=$2 b d
	mkbox "$far"
	for b in I $BOXES; do
		d=$far
		if [ $b != I ]; then
			d=$far/.$b
			mkbox "$d"
			touch "$d/maildirfolder"
		fi
		for i in 1 2 3 4; do
			mkmsg "$d/cur/170000000$i.f$b$i.far:2,S" "f$b$i"
		done
		d=$near/$b
		[ $b = I ] && d=$near/INBOX
		mkbox "$d"
		mkmsg "$d/new/1700000100.n${b}1.near" "n${b}1"
	done
}

# change FAR NEAR: in every folder, on the far side a new message, a flag
# and a deletion; on the near side the same on other messages.
change() {
	local far=$1 near=$2 b fd nd f
	for b in I $BOXES; do
		fd=$far/.$b nd=$near/$b
		[ $b = I ] && fd=$far nd=$near/INBOX
		mkmsg "$fd/new/1700000200.f${b}9.far" "f${b}9"
		f=$(grep -l "f${b}1@" "$fd"/cur/*)
		mv "$f" "${f%:2,*}:2,FS"
		rm "$(grep -l "f${b}2@" "$fd"/cur/*)"
		mkmsg "$nd/new/1700000300.n${b}9.near" "n${b}9"
		f=$(grep -l "f${b}3@" "$nd"/cur/*)
		mv "$f" "${f%:2,*}:2,RS"
		rm "$(grep -l "f${b}4@" "$nd"/cur/*)"
	done
}

# write_rc FILE USER PORT NEAR CONNECTIONS
write_rc() {
	rc_imap_account acct "$2" >"$1"
	sed -i "s/^Port .*/Port $3/" "$1"
	cat >>"$1" <<RC
Connections $5

IMAPStore far
Account acct

MaildirStore near
Path $4/
Inbox $4/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
SyncState *
RC
}

# contents far|near DIR: "folder id flags" of every message, sorted.
contents() {
	find "$2" -type f \( -path '*/cur/*' -o -path '*/new/*' \) -print0 |
	    xargs -0 -r "$MAILSUM" | awk -v root="$2/" -v side="$1" '{
		p = substr($4, length(root) + 1)
		box = p
		if (!sub("/(cur|new)/[^/]*$", "", box))
			box = "INBOX"
		else if (side == "far")
			box = substr(box, 2)
		fl = ""
		if (index(p, ":2,") > 0)
			fl = substr(p, index(p, ":2,") + 3)
		id = $3
		sub("@.*", "", id)
		print box, id, fl
	}' | sort
}

# twinbox RCFILE OUT [ARGS...]: run the binary, bounded; prints its status.
twinbox() {
	local rc=$1 out=$2
	shift 2
	timeout 60 "$BIN" -c "$rc" "$@" c >"$out" 2>&1
	st=$?
	[ $st = 2 ] && sed 's/^/    twinbox: /' "$out" >&2
	echo $st
}

# check_result LABEL: both sides of the current case hold WANT, nothing
# twice, and a dry run plans nothing.
check_result() {
	local far near st
	far=$(contents far "$MAIL_DIR/$U")
	near=$(contents near "$NEAR")
	expect_eq "$1: no duplicate" "" "$( (echo "$far"; echo "$near") |
	    awk '{ print $1, $2 }' | sort | uniq -c | awk '$1 > 2' |
	    tr '\n' ' ')"
	expect_eq "$1: server holds the sequential result" "$WANT" "$far"
	expect_eq "$1: maildir holds the sequential result" "$WANT" "$near"
	st=$(twinbox "$RC" "$TMP/dry.out" --dry-run)
	expect_eq "$1: dry run succeeds" 0 "$st"
	expect_eq "$1: dry run plans nothing" "" \
	    "$(grep -v -e 'dry run: nothing to do$' "$TMP/dry.out")"
}

users=0
# fresh LABEL FARTREE NEARTREE CONNECTIONS [PORT]: a new user and near
# copy; sets U, NEAR, RC.
fresh() {
	users=$((users + 1))
	U=p$users
	[ $users -le $MAXUSERS ] || { fail "$1: more than $MAXUSERS users"; return 1; }
	NEAR=$TMP/case/$U
	RC=$TMP/case/$U.rc
	mkdir -p "$TMP/case"
	new_user "$U" "$2" || { fail "$1: cannot add user $U"; return 1; }
	cp -a "$3" "$NEAR"
	write_rc "$RC" "$U" "${5:-$IMAP_PORT}" "$NEAR" "$4"
}

# ---- 1. parallel = sequential --------------------------------------------

make_trees "$TMP/far0" "$TMP/near0"
fresh "first sync" "$TMP/far0" "$TMP/near0" 1 || exit 1
st=$(twinbox "$RC" "$TMP/first.out")
expect_eq "first sync exits 0" 0 "$st"
expect_eq "first sync: 40 messages" 40 "$(contents far "$MAIL_DIR/$U" | wc -l)"
cp -a "$MAIL_DIR/$U" "$TMP/far1"
cp -a "$NEAR" "$TMP/near1"
cp -a "$MAIL_DIR/$U" "$TMP/far2"
cp -a "$NEAR" "$TMP/near2"
change "$TMP/far1" "$TMP/near1"
chown -R "$MAIL_OWNER" "$TMP/far1"

fresh "sequential" "$TMP/far1" "$TMP/near1" 1 || exit 1
st=$(twinbox "$RC" "$TMP/seq.out" --ext-exit)
expect_eq "sequential run exits 96 (--ext-exit: both sides changed)" 96 "$st"
WANT=$(contents far "$MAIL_DIR/$U")
expect_eq "sequential run: 40 messages" 40 "$(wc -l <<<"$WANT")"
expect_eq "sequential run: changes carried" \
    "INBOX fI1 FS|INBOX fI3 RS|INBOX fI9 |INBOX nI1 |INBOX nI9 |" \
    "$(grep '^INBOX' <<<"$WANT" | tr '\n' '|')"
check_result "sequential run"

fresh "parallel" "$TMP/far1" "$TMP/near1" 3 || exit 1
# The run's first step waits (TWINBOX_HOOK_AT: only that connection's
# thread) until the protocol log holds a second login, at most 20 s: on a
# fast or busy machine the first connection could otherwise sync every
# mailbox before the others have connected, and the run, rightly,
# abandons them before their login.
cat >"$TMP/wait-login" <<'SH'
i=0
while [ "$(grep -c '>> [A-Za-z0-9]* AUTHENTICATE ' "$1")" -lt 2 ] &&
    [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
SH
st=$(TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="sh '$TMP/wait-login' '$TMP/par.out'" \
    twinbox "$RC" "$TMP/par.out" --ext-exit -D)
expect_eq "parallel run exits 96 as the sequential one" 96 "$st"
[ "$st" = 96 ] || grep -v '^debug' "$TMP/par.out" >&2
# Three connections; one that no mailbox is left for by the time it has
# connected is abandoned before its login.
logins=$(grep -c '>> [A-Za-z0-9]* AUTHENTICATE ' "$TMP/par.out")
expect_eq "parallel run: two or three logins ($logins)" 1 \
    "$([ "$logins" -ge 2 ] && [ "$logins" -le 3 ] && echo 1)"
expect_eq "parallel run: one LIST (the other connections do not list)" 1 \
    "$(grep -c '>> [A-Za-z0-9]* LIST ' "$TMP/par.out")"
expect_eq "parallel run: one NAMESPACE (the others are told the first's)" 1 \
    "$(grep -c '>> [A-Za-z0-9]* NAMESPACE' "$TMP/par.out")"
# summaries FILE: the per-mailbox lines (not -D's), sorted.
summaries() {
	grep -E '^c:[^:]*: (far->near|near->far|up to date)' "$1" | sort
}
expect_eq "parallel run: the sequential run's lines, in any order" \
    "$(summaries "$TMP/seq.out")" "$(summaries "$TMP/par.out")"
expect_eq "parallel run: eight mailbox lines" 8 \
    "$(summaries "$TMP/par.out" | wc -l)"
check_result "parallel run"
st=$(twinbox "$RC" "$TMP/par2.out" --ext-exit)
expect_eq "parallel run again: nothing changed (--ext-exit 0)" 0 "$st"
echo "ok: parallel and sequential runs agree"

# ---- 2. crash sweep ------------------------------------------------------

export -n TWINBOX_CRASH_AFTER TWINBOX_CRASH_SIGNAL
# fresh_parallel LABEL: a case of the changed trees with three connections.
fresh_parallel() {
	fresh "$1" "$TMP/far1" "$TMP/near1" 3
}
crash_sweep 300 fresh_parallel check_result
steps=$SWEPT
echo "ok: parallel run killed at each of $steps steps, then resumed"
[ "$steps" -ge 40 ] || fail "crash sweep: only $steps steps"

# ---- 3. SIGTERM ----------------------------------------------------------

# term_at N FAR NEAR CONNECTIONS: SIGTERM at step N of a run of those
# trees: exit 143 with the one interrupted line and no other error, then
# a clean run reaches WANT.
term_at() {
	local n=$1
	fresh "TERM at $n" "$2" "$3" "$4" || return
	st=$(TWINBOX_CRASH_AFTER=$n TWINBOX_CRASH_SIGNAL=TERM \
	    twinbox "$RC" "$TMP/term.out")
	expect_eq "TERM at step $n: exit 143" 143 "$st"
	expect_eq "TERM at step $n: the one interrupted line, no other error" \
	    "twinbox: error: interrupted; the next run resumes" \
	    "$(grep 'error' "$TMP/term.out")"
	st=$(twinbox "$RC" "$TMP/resume.out")
	expect_eq "TERM at step $n: the next run exits 0" 0 "$st"
	check_result "TERM at step $n"
}

for n in 3 $((steps / 3)) $((steps * 2 / 3)); do
	term_at $n "$TMP/far1" "$TMP/near1" 3
done
echo "ok: SIGTERM stops every worker; the next run completes"

# ---- 4. one connection dropped -------------------------------------------

# start_proxy FAULT K [ARGS...]: faultproxy doing FAULT at the K-th
# SELECT, with faultproxy's ARGS (--late, --user, --pass); sets
# PPORT and proxy_pid. The proxy ends with its last connection: an idle
# one (descriptor 9, until stop_proxy) keeps it up for the workers that
# connect after a drop.
start_proxy() {
	rm -f "$TMP/proxy.port" "$TMP/proxy.report"
	"$PROXY" --to "127.0.0.1:$IMAP_PORT" --port-file "$TMP/proxy.port" \
	    --report "$TMP/proxy.report" --fault "$1" --only SELECT --at "$2" \
	    --max-seconds 60 "${@:3}" 2>"$TMP/proxy.err" &
	proxy_pid=$!
	PPORT=$(port_from "$TMP/proxy.port")
	[ -n "$PPORT" ] ||
		{ fail "faultproxy did not start" "$(cat "$TMP/proxy.err")"
		  exit 1; }
	exec 9<>"/dev/tcp/127.0.0.1/$PPORT"
}

# stop_proxy: stopped, by its PID.
stop_proxy() {
	exec 9>&-
	kill "$proxy_pid" 2>/dev/null
	wait "$proxy_pid" 2>/dev/null
	proxy_pid=
}

start_proxy drop 3
fresh "dropped" "$TMP/far1" "$TMP/near1" 3 "$PPORT" || exit 1
# As in 1, the first step waits for a second login: the dropped
# connection must not be the only one.
st=$(TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="sh '$TMP/wait-login' '$TMP/drop.out'" \
    twinbox "$RC" "$TMP/drop.out" -D)
expect_eq "dropped: two or three logins" 1 \
    "$(n=$(grep -c '>> [A-Za-z0-9]* AUTHENTICATE ' "$TMP/drop.out")
    [ "$n" -ge 2 ] && [ "$n" -le 3 ] && echo 1)"
stop_proxy
expect_eq "dropped: the proxy dropped a connection at a SELECT" "1 SELECT" \
    "$(sed -n 's/^fired=//p' "$TMP/proxy.report") $(sed -n 's/^command=//p' "$TMP/proxy.report")"
expect_eq "dropped: exit 1" 1 "$st"
expect_eq "dropped: one mailbox failed" 1 "$(grep -c '^twinbox: error: c:' "$TMP/drop.out")"
[ "$st" = 1 ] || grep -v '^debug' "$TMP/drop.out" >&2
expect_eq "dropped: nothing skipped" 0 "$(grep -c 'skipping' "$TMP/drop.out")"
expect_eq "dropped: seven mailboxes synced" 7 "$(summaries "$TMP/drop.out" | wc -l)"
bad=$(sed -n 's/^twinbox: error: c:\([^:]*\):.*/\1/p' "$TMP/drop.out")
expect_eq "dropped: the other folders hold the sequential result" \
    "$(grep -v "^$bad " <<<"$WANT")" \
    "$(contents far "$MAIL_DIR/$U" | grep -v "^$bad ")"
write_rc "$RC" "$U" "$IMAP_PORT" "$NEAR" 3
st=$(twinbox "$RC" "$TMP/clean.out")
expect_eq "dropped: the next run exits 0" 0 "$st"
check_result "dropped, then a clean run"

# ---- 5. the next mailbox's SELECT while the last one's files change ------

# Flags changed on the server alone: each pair's plan renames files on the
# near side only, so the worker sends the next mailbox's SELECT before
# carrying it out.
for b in I $BOXES; do
	d=$TMP/far2/.$b
	[ $b = I ] && d=$TMP/far2
	for id in f${b}1 f${b}3; do
		f=$(grep -l "$id@" "$d"/cur/*)
		mv "$f" "${f%:2,*}:2,FS"
	done
done
chown -R "$MAIL_OWNER" "$TMP/far2"
# early_selects LABEL OUT: per connection, every SELECT but its first
# goes out before the mailbox it selected last has its line.
early_selects() {
	local early
	early=$(awk '
		/ >> [A-Za-z0-9]* SELECT "/ {
			conn = $2; box = $6; gsub(/"/, "", box)
			n++
			if (conn in last) { if (!(last[conn] in done)) e++ }
			else c++
			last[conn] = box
			next
		}
		/^c:[^:]*: (far->near|up to date)/ {
			b = substr($1, 3); sub(/:$/, "", b); done[b] = 1
		}
		END { print n - c, e + 0 }' "$2")
	expect_eq "$1: each next SELECT before the last line" 1 \
	    "$(set -- $early; [ "$1" -ge 1 ] && [ "$1" = "$2" ] && echo 1)"
	[ "${early% *}" = "${early#* }" ] ||
		echo "    SELECTs after a first, early: $early" >&2
}

# One connection: the run looks one step of the mailbox plan ahead.
fresh "server flags, one connection" "$TMP/far2" "$TMP/near2" 1 || exit 1
st=$(twinbox "$RC" "$TMP/seq2.out" -D)
expect_eq "server flags, one connection: exit 0" 0 "$st"
WANT=$(contents far "$MAIL_DIR/$U")
expect_eq "server flags, one connection: 16 messages flagged" 16 \
    "$(contents near "$NEAR" | grep -c ' FS$')"
expect_eq "server flags, one connection: one login" 1 \
    "$(grep -c '>> [A-Za-z0-9]* AUTHENTICATE ' "$TMP/seq2.out")"
early_selects "server flags, one connection" "$TMP/seq2.out"
check_result "server flags, one connection"

fresh "server flags, pipelined" "$TMP/far2" "$TMP/near2" 3 || exit 1
st=$(TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="sh '$TMP/wait-login' '$TMP/pipe.out'" \
    twinbox "$RC" "$TMP/pipe.out" -D)
expect_eq "server flags, pipelined: exit 0" 0 "$st"
early_selects "server flags, pipelined" "$TMP/pipe.out"
check_result "server flags, pipelined"

fresh_flags1() {
	fresh "$1" "$TMP/far2" "$TMP/near2" 1
}
crash_sweep 300 fresh_flags1 check_result
echo "ok: one connection's run killed at each of $SWEPT steps, then resumed"
[ "$SWEPT" -ge 20 ] || fail "one connection's crash sweep: only $SWEPT steps"
# A stop while a pair begun early waits for its SELECT's answer, or
# anywhere else: every fourth step of the one connection's run, whose
# steps come in one order (one thread).
for n in $(seq 2 4 "$SWEPT"); do
	term_at $n "$TMP/far2" "$TMP/near2" 1
done
echo "ok: SIGTERM in the one connection's run at every fourth step"
fresh_flags() {
	fresh "$1" "$TMP/far2" "$TMP/near2" 3
}
crash_sweep 300 fresh_flags check_result
echo "ok: pipelined run killed at each of $SWEPT steps, then resumed"
[ "$SWEPT" -ge 20 ] || fail "pipelined crash sweep: only $SWEPT steps"
# With three connections the number of steps varies from run to run
# (which worker takes which pair): a stop well inside the run.
for n in 3 $((SWEPT / 3)) $((SWEPT * 2 / 3)); do
	term_at $n "$TMP/far2" "$TMP/near2" 3
done
echo "ok: SIGTERM in the pipelined run"

# The next pair is locked by another process when its turn comes early:
# at the run's first step every other pair's lock is taken by a holder
# that keeps it until the run says it did not begin a pair early (at most
# 20 s); the step returns once every holder holds its lock or gave up
# (the lock the run holds itself).
cat >"$TMP/lock-others" <<'SH'
near=$1 log=$2 marks=$3 i=0
rm -rf "$marks" && mkdir "$marks" || exit 1
for f in "$near"/*/.twinboxstate.lock; do
	i=$((i + 1))
	flock -n "$f" sh -c 'touch "$1"; n=0
		while ! grep -q "not begun early" "$2" && [ $n -lt 400 ]; do
			sleep 0.05; n=$((n + 1))
		done' sh "$marks/$i" "$log" &
	echo $! >"$marks/$i.pid"
done
for j in $(seq "$i"); do
	while [ ! -e "$marks/$j" ] && kill -0 "$(cat "$marks/$j.pid")" 2>/dev/null
	do
		sleep 0.01
	done
done
SH
fresh "next pair locked" "$TMP/far2" "$TMP/near2" 1 || exit 1
printf 'LockWait 20\n' >>"$RC"
st=$(TWINBOX_HOOK_AT=1 \
    TWINBOX_HOOK_CMD="sh '$TMP/lock-others' '$NEAR' '$TMP/lock.out' '$TMP/held'" \
    twinbox "$RC" "$TMP/lock.out" -D)
expect_eq "next pair locked: exit 0" 0 "$st"
expect_eq "next pair locked: not begun early, waited for" 1 \
    "$([ "$(grep -c 'is locked); not begun early' "$TMP/lock.out")" -ge 1 ] &&
    echo 1)"
check_result "next pair locked"

# Each SELECT of the pipelined run refused, then dropped with its
# connection (faultproxy): that one mailbox fails, whether its SELECT
# went out early or not, the seven others are synced, and a clean run
# reaches the sequential result.
for fault in no drop; do
	for k in 1 2 3 4 5 6 7 8; do
		l="SELECT $k: $fault"
		start_proxy $fault $k
		fresh "$l" "$TMP/far2" "$TMP/near2" 3 "$PPORT" || exit 1
		st=$(TWINBOX_HOOK_AT=1 \
		    TWINBOX_HOOK_CMD="sh '$TMP/wait-login' '$TMP/fault.out'" \
		    twinbox "$RC" "$TMP/fault.out" -D)
		stop_proxy
		expect_eq "$l: fired" 1 \
		    "$(sed -n 's/^fired=//p' "$TMP/proxy.report")"
		expect_eq "$l: exit 1" 1 "$st"
		expect_eq "$l: one mailbox failed" 1 \
		    "$(grep -c '^twinbox: error: c:' "$TMP/fault.out")"
		n=$(summaries "$TMP/fault.out" | wc -l)
		expect_eq "$l: seven mailboxes synced" 7 "$n"
		[ "$n" = 7 ] ||
			grep -v -e '^debug' -e '^c:[^:]*: [fu]' "$TMP/fault.out" >&2
		write_rc "$RC" "$U" "$IMAP_PORT" "$NEAR" 3
		st=$(twinbox "$RC" "$TMP/clean.out")
		expect_eq "$l: the next run exits 0" 0 "$st"
		check_result "$l, then a clean run"
	done
done
# Another client changes the mailbox of a SELECT sent early (one
# connection: every SELECT but the first), as the server answers it
# (faultproxy --late: through a second session, before the SELECT's
# tagged answer): it expunges the mailbox's last message, or delivers a
# new one. The run exits 0 or fails that mailbox; a clean run then leaves
# both sides alike, without the expunged message or with the new one.
for fault in expunge exists; do
	for k in 2 3 4 5 6 7 8; do
		l="SELECT $k, another client's $fault"
		fresh "$l" "$TMP/far2" "$TMP/near2" 1 || exit 1
		start_proxy $fault $k --late --user "$U" --pass "$PASSWORD"
		write_rc "$RC" "$U" "$PPORT" "$NEAR" 1
		st=$(twinbox "$RC" "$TMP/late.out")
		stop_proxy
		expect_eq "$l: fired" 1 \
		    "$(sed -n 's/^fired=//p' "$TMP/proxy.report")"
		expect_eq "$l: exit 0 or 1" 1 \
		    "$([ "$st" = 0 ] || [ "$st" = 1 ] && echo 1)"
		id=$(sed -n 's/^message-id=<\([^@]*\)@.*/\1/p' "$TMP/proxy.report")
		write_rc "$RC" "$U" "$IMAP_PORT" "$NEAR" 1
		st=$(twinbox "$RC" "$TMP/clean.out")
		expect_eq "$l: the next run exits 0" 0 "$st"
		far=$(contents far "$MAIL_DIR/$U")
		expect_eq "$l: both sides alike" "$far" \
		    "$(contents near "$NEAR")"
		want=0
		[ $fault = exists ] && want=1
		expect_eq "$l: $id on the server" $want \
		    "$(awk -v id="$id" '$2 == id' <<<"$far" | wc -l)"
		expect_eq "$l: nothing else lost" $((39 + want)) \
		    "$(awk -v id="$id" '$2 != id' <<<"$far" | wc -l)"
		st=$(twinbox "$RC" "$TMP/dry.out" --dry-run)
		expect_eq "$l: a dry run plans nothing" "" \
		    "$(grep -v -e 'dry run: nothing to do$' "$TMP/dry.out")"
	done
done
echo "ok: the next mailbox is selected while the last one's files change"

echo "imap_parallel.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
