#!/bin/bash
# Faults while both SELECTs of an IMAP <-> IMAP channel are in flight: a
# mailbox pair's open sends each server's SELECT burst (with QRESYNC its
# UID FETCH and UID SEARCH) before reading either answer. Two users of one
# private Dovecot, both reached through tests/tools/faultproxy; INBOX and
# Work; marks settled by two clean runs, then a message delivered on the
# far side and one on the near side, so that the faulted run's SELECTs
# carry QRESYNC.
#
# Each case refuses (NO) or cuts (both sockets closed) the first or the
# second SELECT the proxy reads, or the first UID FETCH or UID SEARCH
# (the QRESYNC burst's): the other server's SELECT is then in flight or
# answered unread. The faulted run must fail cleanly (exit 1, an error
# line, no signal, no timeout, no sanitizer report); then at most two
# clean runs leave both sides holding the same messages, each once, the
# two new ones included, and a dry run plans nothing.
# Run from the top of the tree; tests/run-all.sh runs it.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path PROXY faultproxy
proxy_pid=
cleanup_more() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
}

CASES="no:SELECT:1 no:SELECT:2 drop:SELECT:1 drop:SELECT:2
no:UID_FETCH:1 drop:UID_FETCH:1 no:UID_SEARCH:1 drop:UID_SEARCH:2
drop:SELECT:1:1"
# Every user is made at start (Dovecot notices a new passwd-file by its
# modification time): f0 n0 settle, fqr nqr run without a fault, and each
# case has its own pair.
users=(f0 n0 fqr nqr)
for c in $CASES; do
	n=${c//[^0-9A-Za-z]/}
	users+=("f${n,,}" "n${n,,}")
done
start_dovecot "$TMP/srv" "${users[@]}"

# msg FILE ID: a small message with Message-ID <ID@open.test>.
msg() {
	printf 'From: a@open.test\r\nSubject: %s\r\nMessage-ID: <%s@open.test>\r\n\r\nBody of %s.\r\n' \
	    "$2" "$2" "$2" >"$1"
}

# The users' Maildirs (Dovecot's layout: INBOX at the top, .Work).
mkbox "$TMP/far0"
mkbox "$TMP/far0/.Work"
mkbox "$TMP/near0"
msg "$TMP/far0/cur/1700000001.f1.far:2,S" f1
msg "$TMP/far0/cur/1700000002.f2.far:2," f2
msg "$TMP/far0/.Work/cur/1700000003.w1.far:2,F" w1
msg "$TMP/near0/cur/1700000004.n1.near:2,S" n1

# write_rc FILE PORT FARUSER NEARUSER STATEDIR [DEPTH] (the stores keep
# their names, far and near, which name the state files; PipelineDepth
# DEPTH, or the default without it)
write_rc() {
	local side u
	: >"$1"
	for side in far near; do
		u=$3
		[ $side = far ] || u=$4
		cat >>"$1" <<RC
IMAPAccount $side
Host 127.0.0.1
Port $2
User $u
Pass $PASSWORD
TLSType None
AuthMechs PLAIN
Timeout 20
Connections 1
${6:+PipelineDepth $6}

IMAPStore $side
Account $side

RC
	done
	cat >>"$1" <<RC
Channel c
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
SyncState $5/
RC
}

# twinbox RCFILE OUT [ARGS...]: the binary, bounded; prints its status.
twinbox() {
	local rc=$1 out=$2
	shift 2
	timeout 60 "$BIN" -c "$rc" "$@" c >"$out" 2>&1
	echo $?
}

# crashed STATUS OUT: why a run counts as a crash, or nothing.
crashed() {
	local san
	san=$(grep -a -m 1 -e 'ERROR: AddressSanitizer' \
	    -e 'ERROR: LeakSanitizer' -e 'runtime error' "$2")
	if [ -n "$san" ]; then
		echo "sanitizer report: $san"
	elif [ "$1" = 124 ]; then
		echo "timed out"
	elif [ "$1" -gt 128 ]; then
		echo "killed by signal $(($1 - 128))"
	fi
}

# listing USER: "folder id" of every message of the user, sorted.
listing() {
	message_ids "$MAIL_DIR/$1" 1
}

# The settled start: two clean runs, then new mail on both sides.
new_user f0 "$TMP/far0" && new_user n0 "$TMP/near0" || exit 1
write_rc "$TMP/rc0" "$IMAP_PORT" f0 n0 "$TMP/state0"
mkdir -p "$TMP/state0"
for i in 1 2; do
	st=$(twinbox "$TMP/rc0" "$TMP/settle$i.out")
	expect_eq "settling run $i exits 0" 0 "$st"
	[ "$st" = 0 ] || cat "$TMP/settle$i.out" >&2
done
cp -a "$MAIL_DIR/f0" "$TMP/far1"
cp -a "$MAIL_DIR/n0" "$TMP/near1"
msg "$TMP/far1/new/1700000005.f3.far" f3
msg "$TMP/near1/new/1700000006.n2.near" n2
WANT="INBOX f1
INBOX f2
INBOX f3
INBOX n1
INBOX n2
Work w1"
new_user fqr "$TMP/far1" && new_user nqr "$TMP/near1" || exit 1
cp -a "$TMP/state0" "$TMP/stateqr"
write_rc "$TMP/rcqr" "$IMAP_PORT" fqr nqr "$TMP/stateqr"
st=$(twinbox "$TMP/rcqr" "$TMP/qr.out" -D)
expect_eq "the run without faults exits 0" 0 "$st"
expect_eq "both INBOX SELECTs carry QRESYNC" 2 \
    "$(grep -c 'SELECT "INBOX" (QRESYNC' "$TMP/qr.out")"
# Both bursts are out before either answer is read (the window the cases
# below cut into).
expect_eq "both INBOX bursts leave before the first answer" \
    "far >> SELECT|far >> UID FETCH|far >> UID SEARCH|near >> SELECT|near >> UID FETCH|near >> UID SEARCH|far << OK|" \
    "$(sed -n '/ SELECT "INBOX"/,$p' "$TMP/qr.out" | sed -n \
    's/^debug: \(far\|near\)#[0-9]* \(>>\|<<\) T[0-9]* \(SELECT\|UID FETCH\|UID SEARCH\|OK\).*/\1 \2 \3/p' |
    head -7 | tr '\n' '|')"
expect_eq "the run without faults: far side" "$WANT" "$(listing fqr)"
expect_eq "the run without faults: near side" "$WANT" "$(listing nqr)"
if [ "$failed" -ne 0 ]; then
	echo "imap_open_faults.sh: the settling runs fail; no cases" >&2
	exit 1
fi

QR_WARNING="the server's QRESYNC answer does not add up"

# one_case KIND COMMAND K [DEPTH]: with DEPTH 1 the burst's FETCH waits
# for the SELECT's answer before it is sent (PipelineDepth 1), so that a
# cut SELECT fails while the burst is being sent.
one_case() {
	local name="$1 at $2 $3${4:+, PipelineDepth $4}" n=$1$2$3${4:-} st why i
	n=${n//[^0-9A-Za-z]/}
	n=${n,,}
	if ! new_user "f$n" "$TMP/far1" || ! new_user "n$n" "$TMP/near1"; then
		fail "$name: cannot add users"
		return
	fi
	cp -a "$TMP/state0" "$TMP/state$n"
	rm -f "$TMP/proxy.port"
	"$PROXY" --to "127.0.0.1:$IMAP_PORT" --port-file "$TMP/proxy.port" \
	    --report "$TMP/proxy.report" --fault "$1" --at "$3" \
	    --only "$2" --max-seconds 60 2>"$TMP/proxy.err" &
	proxy_pid=$!
	port_from "$TMP/proxy.port" >/dev/null
	if [ ! -s "$TMP/proxy.port" ]; then
		fail "$name: the proxy did not start" "$(cat "$TMP/proxy.err")"
		kill "$proxy_pid" 2>/dev/null
		wait "$proxy_pid" 2>/dev/null
		proxy_pid=
		return
	fi
	write_rc "$TMP/rc$n" "$(cat "$TMP/proxy.port")" "f$n" "n$n" \
	    "$TMP/state$n" "${4:-}"
	st=$(twinbox "$TMP/rc$n" "$TMP/fault$n.out")
	kill "$proxy_pid" 2>/dev/null
	wait "$proxy_pid" 2>/dev/null
	proxy_pid=
	expect_eq "$name: the fault fired" fired=1 \
	    "$(grep '^fired=' "$TMP/proxy.report")"
	why=$(crashed "$st" "$TMP/fault$n.out")
	expect_eq "$name: the run ends cleanly" "" "$why"
	case $1:$2 in
	no:UID\ FETCH) why="the FETCH of new messages failed" ;;
	no:UID\ SEARCH) why="the UID SEARCH failed" ;;
	*) why= ;;
	esac
	if [ -n "$why" ]; then
		# Refused after a good SELECT: only the QRESYNC answer is lost.
		expect_eq "$name: the run succeeds" 0 "$st"
		expect_eq "$name: one warning, the mailbox scanned whole" 1 \
		    "$(grep -c -F "$QR_WARNING ($why)" "$TMP/fault$n.out")"
	else
		expect_eq "$name: the run fails" 1 "$st"
		expect_eq "$name: an error line naming the store" 1 \
		    "$(grep -c -m 1 -E "error: c:INBOX: imap store '(far|near)' mailbox 'INBOX': " \
		    "$TMP/fault$n.out")"
	fi
	write_rc "$TMP/rc$n" "$IMAP_PORT" "f$n" "n$n" "$TMP/state$n"
	for i in 1 2; do
		st=$(twinbox "$TMP/rc$n" "$TMP/clean$n.$i.out")
		[ "$(listing "f$n")" = "$WANT" ] &&
			[ "$(listing "n$n")" = "$WANT" ] && break
	done
	expect_eq "$name: clean run exits 0" 0 "$st"
	expect_eq "$name: far side after clean runs" "$WANT" \
	    "$(listing "f$n")"
	expect_eq "$name: near side after clean runs" "$WANT" \
	    "$(listing "n$n")"
	st=$(twinbox "$TMP/rc$n" "$TMP/dry$n.out" --dry-run)
	expect_eq "$name: a dry run then plans nothing" "0 " \
	    "$st $(grep -a -v -e 'dry run: nothing to do$' \
	    -e 'logging in as' "$TMP/dry$n.out" | head -3)"
}

for c in $CASES; do
	IFS=: read -r kind cmd k depth <<<"$c"
	one_case "$kind" "${cmd//_/ }" "$k" "$depth"
done

echo "imap_open_faults.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
