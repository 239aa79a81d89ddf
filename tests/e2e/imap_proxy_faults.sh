#!/bin/bash
# IMAP faults at every command of a sync, through tests/tools/faultproxy
# between the twinbox binary and a private Dovecot, on an IMAP <-> Maildir
# channel (INBOX and Work, Expunge Both).
#
# The corpus: on the server, messages appended over IMAP; in the Maildir,
# files; on both sides CRLF and LF line ends, a bare CR inside a line, a CR
# ending the message, a NUL byte, a header without body and 8-bit headers
# and bodies. Between the first and the second sync: flag changes on both
# sides (two of them on the same messages, for the three-way merge), a
# deletion on each side and a new message on each side.
#
# For each of the two syncs, each fault kind and the commands k of that
# sync (the commands after login, counted by the proxy in a clean run;
# which k, see "The sample" below):
#   expunge  a message expunged by a second session just before command k
#            (the highest UID among those command k names, else of the
#            mailbox)
#   no       command k answered "NO [SERVERBUG] injected"
#   fetch    an unsolicited "* n FETCH (FLAGS (...))", true, before k
#   fetchuid the same with "UID u" in it, as Dovecot sends them to a
#            session that enabled QRESYNC
#   fetchuid-late  the same, but after all of command k's own responses,
#            just before its tagged answer
#   exists   a message appended by a second session, "* n EXISTS" injected
#   drop     both connections closed at command k
# the run through the proxy may fail but must not crash (no signal, no
# timeout, no sanitizer report); then at most two clean runs must leave
# both sides holding exactly the expected messages: the uninterrupted
# result, minus the message expunged or plus the message appended by the
# second session; each once (compared by content in canonical line-ending
# form, tests/tools/mailsum, which also allows for what Dovecot itself
# changes: it drops a CR that ends an appended message and serves a NUL as
# 0x80), with the uninterrupted run's flags; and a dry run then plans
# nothing. Before the sweep, the proxy's framing of a synchronizing
# literal (which twinbox, using LITERAL+, does not send) is checked.
#
# A separate case: a zero-byte file in the Maildir, which is no message
# (Dovecot would refuse to store it): three runs each warn once, naming
# it, exit 0 and create no copy anywhere.
#
# The sample (deterministic): expunge, no and drop at every k of both
# syncs; the four injecting kinds share the k between them: fetch and
# exists at the odd k, fetchuid and fetchuid-late at the even k, and all
# four at the last k (a -late kind at the last but one: the last is the
# LOGOUT, whose answer twinbox does not wait for). With the 24 and 15
# commands of today's syncs that is 199 cases, about 2 minutes on two
# busy cores. SWEEP_FULL=1 runs every
# kind at every k; SWEEP_ONLY='second expunge k=13' (a
# pattern) runs only the cases named; SWEEP_FAULTS='expunge-late ...'
# runs other kinds (any kind with -late, see faultproxy).
# Each case gets a fresh Dovecot user (made at start, unused until then)
# whose Maildir is a copy of a prepared tree, and a fresh near Maildir.
# Output: one line per case ("ok" or "FAIL" and why), then a summary that
# lists the failed cases; the exit status is 1 when any case failed.
# The server and any proxy are stopped and the directory removed however
# the test ends. Run from the top of the tree; tests/run-all.sh runs it.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
PROXY=$(abs_path "$BUILD/tests/tools/faultproxy")
MAILSUM=$(abs_path "$BUILD/tests/tools/mailsum")
proxy_pid=
cleanup_more() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
}
[ -n "${KEEP:-}" ] && echo "KEEP: the directory is $TMP"
E2E_QUIET_PASS=1

for tool in "$PROXY" "$MAILSUM"; do
	if [ ! -x "$tool" ]; then
		echo "FAIL: $tool is missing (make build-all builds it)" >&2
		exit 1
	fi
done
FULL=${SWEEP_FULL:-0}
# Every user is made at start (Dovecot notices a new passwd-file by its
# modification time, which two additions within a second would not change).
MAXUSERS=400
start_dovecot "$TMP/srv" $(seq -f 'u%g' $MAXUSERS)

# ---- IMAP by hand -------------------------------------------------------

# imap USER CMDFILE: log in, then send the tagged commands of CMDFILE
# (pipelined, literals as LITERAL+) and log out; fails when any command is
# not OK. The commands wait for the login's answer: before it, Dovecot
# takes no more than a small buffer of input.
imap() {
	local out=$TMP/imap.out line
	exec 3<>"/dev/tcp/127.0.0.1/$IMAP_PORT" || return 1
	printf 'a0 LOGIN %s %s\r\n' "$1" "$PASSWORD" >&3
	: >"$out"
	while IFS= read -r -t 10 line <&3; do
		printf '%s\n' "$line" >>"$out"
		case $line in a0\ *) break ;; esac
	done
	{
		cat "$2"
		printf 'zz LOGOUT\r\n'
	} >&3
	timeout 10 cat <&3 >>"$out"
	exec 3<&-
	if grep -a -q -E '^[a-z][a-z0-9]* (NO|BAD)' "$out" ||
	    ! grep -a -q '^zz OK' "$out"; then
		fail "IMAP session as $1" "$(tr -d '\r' <"$out")"
		return 1
	fi
}

# append TAG MAILBOX FLAGS FILE: an APPEND command with FILE as literal.
append() {
	printf '%s APPEND %s (%s) {%d+}\r\n' "$1" "$2" "$3" "$(wc -c <"$4")"
	cat "$4"
	printf '\r\n'
}

# by_id TAG ID COMMAND: COMMAND (with $ for the UIDs found) on the message
# whose Message-ID is <ID@corpus.test>, through SEARCHRES.
by_id() {
	printf '%sa UID SEARCH RETURN (SAVE) HEADER Message-ID %s\r\n' \
	    "$1" "\"<$2@corpus.test>\""
	printf '%sb %s\r\n' "$1" "$3"
}

# ---- the corpus ---------------------------------------------------------

# msg FILE ID EOL [BODY]: a message with Message-ID <ID@corpus.test>, line
# ends EOL (printf %b notation), and BODY (%b notation, default one line;
# "-" for a header without body).
msg() {
	local e=$3 body=${4:-"Body of $2.$3"}
	{
		printf 'From: Sender <s@corpus.test>%bTo: r@corpus.test%b' "$e" "$e"
		printf 'Subject: message %s%b' "$2" "$e"
		printf 'Date: Mon, 2 Jan 2023 10:00:00 +0000%b' "$e"
		printf 'Message-ID: <%s@corpus.test>%b' "$2" "$e"
		[ "$body" = - ] || printf '%b%b' "$e" "$body"
	} >"$1"
}

# msg8 FILE ID EOL: 8-bit header and body (raw UTF-8).
msg8() {
	{
		printf 'From: J\303\274rgen <j@corpus.test>%b' "$3"
		printf 'Subject: Gr\303\274\303\237e%b' "$3"
		printf 'Message-ID: <%s@corpus.test>%b%b' "$2" "$3" "$3"
		printf 'Stra\303\237e, caf\303\251, \342\202\254 5.%b' "$3"
	} >"$1"
}

# The far side, appended over IMAP to user u1: INBOX with six messages of
# CRLF form (a bare CR, a CR at the very end (Dovecot drops it), a NUL, a
# header alone, 8-bit), Work with two.
make_far() {
	local d=$TMP/farsrc
	mkdir -p "$d"
	msg "$d/fa1" fa1 '\r\n'
	msg8 "$d/fa2" fa2 '\r\n'
	msg "$d/fa3" fa3 '\r\n' 'one\rtwo\r\nthree\r\n'
	msg "$d/fa4" fa4 '\r\n' 'ends in a CR\r'
	msg "$d/fa5" fa5 '\r\n' 'a NUL \0 here\r\n'
	msg "$d/fa6" fa6 '\r\n' -
	msg "$d/fw1" fw1 '\r\n'
	msg "$d/fw2" fw2 '\r\n' 'two\r\nlines\r\n'
	{
		printf 'c1 CREATE Work\r\n'
		append c2 INBOX '\Seen' "$d/fa1"
		append c3 INBOX '\Flagged' "$d/fa2"
		append c4 INBOX '' "$d/fa3"
		append c5 INBOX '\Seen \Answered' "$d/fa4"
		append c6 INBOX '' "$d/fa5"
		append c7 INBOX '\Seen' "$d/fa6"
		append c8 Work '\Seen' "$d/fw1"
		append c9 Work '' "$d/fw2"
	} >"$TMP/far.cmds"
	imap u1 "$TMP/far.cmds" || return 1
	cp -a "$MAIL_DIR/u1" "$TMP/far0"
}

# The near side (SubFolders Verbatim): LF, CRLF, a bare CR, a CR at the
# end, a NUL, a header alone, 8-bit; one message in Work.
make_near() {
	local d=$TMP/near0
	mkbox "$d/INBOX"
	mkbox "$d/Work"
	msg "$d/INBOX/new/1700001001.na1.near" na1 '\n'
	msg "$d/INBOX/cur/1700001002.na2.near:2,S" na2 '\r\n'
	msg "$d/INBOX/new/1700001003.na3.near" na3 '\n' 'one\rtwo\nthree\n'
	msg "$d/INBOX/cur/1700001004.na4.near:2,F" na4 '\n' 'ends in a CR\r'
	msg "$d/INBOX/cur/1700001005.na5.near:2,S" na5 '\n' 'a NUL \0 here\n'
	msg "$d/INBOX/cur/1700001006.na6.near:2,RS" na6 '\n' -
	msg8 "$d/INBOX/new/1700001007.na7.near" na7 '\n'
	msg "$d/Work/cur/1700001008.nw1.near:2,FS" nw1 '\n'
}

# ---- both sides ---------------------------------------------------------

# list_side far|near DIR: "folder id hash flags" of every message, sorted;
# folder names in canonical form on both sides, hash of the canonical
# content, flags from the file name ("-" for none).
list_side() {
	find "$2" -type f \( -path '*/cur/*' -o -path '*/new/*' \) -print0 |
	    xargs -0 -r "$MAILSUM" | awk -v root="$2/" -v side="$1" '{
		p = substr($4, length(root) + 1)
		n = split(p, part, "/")
		box = p
		sub("/(cur|new)/[^/]*$", "", box)
		if (side == "far") {
			if (n == 2)
				box = "INBOX"
			else {
				box = substr(box, 2)
				gsub("[.]", "/", box)
			}
		}
		fl = ""
		if (index(part[n], ":2,") > 0) {
			fl = substr(part[n], index(part[n], ":2,") + 3)
			gsub("[^A-Z]", "", fl)
		}
		id = $3
		sub("@.*", "", id)
		print box, id, $1, (fl == "" ? "-" : fl)
	}' | sort
}

# Messages held more than once (folder and id) in a listing.
dups() {
	awk '{ print $1, $2 }' | sort | uniq -d | tr '\n' ' '
}

# write_rc FILE USER PORT NEAR
# Connections 1: the proxy counts the commands of the run, which must be
# those of one connection for command k to be the same in every case
# (imap_parallel.sh sweeps the runs over several connections).
write_rc() {
	cat >"$1" <<RC
IMAPAccount acct
Host 127.0.0.1
Port $3
User $2
Pass $PASSWORD
TLSType None
AuthMechs LOGIN
Timeout 20
Connections 1

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

users=0
# fresh FARTREE NEARTREE: a new user and near copy; sets U, NEAR, RC.
fresh() {
	users=$((users + 1))
	U=u$users
	[ $users -le $MAXUSERS ] || { echo "more than $MAXUSERS users"; return 1; }
	NEAR=$TMP/case/$U
	RC=$TMP/case/$U.rc
	mkdir -p "$TMP/case"
	new_user "$U" "$1" || { echo "cannot add user $U"; return 1; }
	cp -a "$2" "$NEAR"
	write_rc "$RC" "$U" "$IMAP_PORT" "$NEAR"
}

# twinbox RCFILE OUT [ARGS...]: run the binary, bounded; prints its status.
twinbox() {
	local rc=$1 out=$2
	shift 2
	timeout 60 "$BIN" -c "$rc" "$@" c >"$out" 2>&1
	echo $?
}

# crashed STATUS OUT: why a run counts as a crash, or nothing.
crashed() {
	local san
	san=$(grep -a -m 1 -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' \
	    -e 'runtime error' "$2")
	if [ -n "$san" ]; then
		echo "sanitizer report: $san"
	elif [ "$1" = 124 ]; then
		echo "timed out"
	elif [ "$1" -gt 128 ]; then
		echo "killed by signal $(($1 - 128)); its last lines: $(tail -2 \
		    "$2" | tr '\n' ' ')"
	elif [ "$1" != 0 ] && [ "$1" != 1 ]; then
		echo "exit status $1: $(tail -2 "$2" | tr '\n' ' ')"
	fi
}

# mismatch WANT: what is wrong with both sides of the current case, or
# nothing when both hold exactly WANT.
mismatch() {
	local far near d
	far=$(list_side far "$MAIL_DIR/$U")
	near=$(list_side near "$NEAR")
	d=$(dups <<<"$far")
	[ -z "$d" ] || echo "duplicated on the server: $d"
	d=$(dups <<<"$near")
	[ -z "$d" ] || echo "duplicated in the maildir: $d"
	[ "$far" = "$1" ] || echo "server: $(diff <(echo "$1") <(echo "$far") |
	    grep '^[<>]' | tr '\n' ' ')"
	[ "$near" = "$1" ] || echo "maildir: $(diff <(echo "$1") <(echo "$near") |
	    grep '^[<>]' | tr '\n' ' ')"
}

# converge WANT: up to two clean runs until both sides hold WANT, then a
# dry run that must plan nothing; prints what is wrong, or nothing.
converge() {
	local i st why
	for i in 1 2; do
		st=$(twinbox "$RC" "$TMP/clean$i.out")
		why=$(crashed "$st" "$TMP/clean$i.out")
		if [ -n "$why" ]; then
			echo "clean run $i: $why"
			return
		fi
		why=$(mismatch "$1")
		[ -n "$why" ] || break
	done
	if [ -n "$why" ]; then
		echo "after 2 clean runs: $why"
		return
	fi
	if [ "$st" != 0 ]; then
		echo "clean run $i exits $st: $(grep -a error "$TMP/clean$i.out" |
		    head -3 | tr '\n' ' ')"
		return
	fi
	st=$(twinbox "$RC" "$TMP/dry.out" --dry-run)
	why=$(grep -a -v -e 'dry run: nothing to do$' -e 'logging in as' \
	    "$TMP/dry.out" | head -3 | tr '\n' ' ')
	[ "$st" = 0 ] && [ -z "$why" ] ||
		echo "dry run after convergence (status $st) plans: $why"
}

# ---- the proxy ----------------------------------------------------------

# start_proxy FAULT[-late] K: a proxy to Dovecot's plain port; sets proxy_pid,
# proxy_port. The report goes to $TMP/proxy.report, the commands seen to
# $TMP/proxy.log.
start_proxy() {
	local late=()
	rm -f "$TMP/proxy.port" "$TMP/proxy.report"
	case $1 in *-late) late=(--late) ;; esac
	"$PROXY" --to "127.0.0.1:$IMAP_PORT" --port-file "$TMP/proxy.port" \
	    --report "$TMP/proxy.report" --log "$TMP/proxy.log" \
	    --fault "${1%-late}" --at "$2" "${late[@]}" \
	    --user "$U" --pass "$PASSWORD" --max-seconds 60 \
	    2>"$TMP/proxy.err" &
	proxy_pid=$!
	proxy_port=$(port_from "$TMP/proxy.port")
	[ -n "$proxy_port" ]
}

# stop_proxy: sets proxy_status, the proxy's exit status (0 also when it
# stops on TERM).
stop_proxy() {
	kill "$proxy_pid" 2>/dev/null
	wait "$proxy_pid" 2>/dev/null
	proxy_status=$?
	proxy_pid=
}

# report KEY: a value of the proxy's report.
report() {
	sed -n "s/^$1=//p" "$TMP/proxy.report" 2>/dev/null
}

# ---- reference runs -----------------------------------------------------

make_far || exit 1
make_near
users=1

fresh "$TMP/far0" "$TMP/near0" || exit 1
st=$(twinbox "$RC" "$TMP/ref1.out")
expect_eq "reference first sync exits 0" 0 "$st"
[ "$st" = 0 ] || cat "$TMP/ref1.out" >&2
WANT1=$(list_side far "$MAIL_DIR/$U")
expect_eq "reference first sync: 16 messages" 16 "$(wc -l <<<"$WANT1")"
expect_eq "reference first sync: both sides equal" "" "$(mismatch "$WANT1")"

# Changes on the server (over IMAP): fa1 +F, na3 +S (near: +F), fa2 -F
# +S (near: -F), na5 expunged, a new fw3 in Work. In the Maildir: fa1 +R,
# na3 +F, fa2 -F, fa3 deleted, a new CRLF nw2 in Work.
msg "$TMP/farsrc/fw3" fw3 '\r\n' 'new on the server\r\n'
{
	printf 's0 SELECT INBOX\r\n'
	by_id s1 fa1 'UID STORE $ +FLAGS (\Flagged)'
	by_id s2 na3 'UID STORE $ +FLAGS (\Seen)'
	by_id s3 fa2 'UID STORE $ FLAGS (\Seen)'
	by_id s4 na5 'UID STORE $ +FLAGS.SILENT (\Deleted)'
	printf 's5 UID EXPUNGE $\r\n'
	append s6 Work '' "$TMP/farsrc/fw3"
} >"$TMP/change.cmds"
imap "$U" "$TMP/change.cmds" || exit 1
# reflag ID FLAGS: give a near message new flags.
reflag() {
	local f
	f=$(grep -a -l "<$1@" "$NEAR"/INBOX/cur/* "$NEAR"/INBOX/new/*)
	mv "$f" "$NEAR/INBOX/cur/$(basename "${f%:2,*}"):2,$2"
}
reflag fa1 FRS
reflag na3 F
reflag fa2 ''
rm "$(grep -a -l '<fa3@' "$NEAR"/INBOX/cur/* "$NEAR"/INBOX/new/*)"
msg "$NEAR/Work/new/1700002001.nw2.near" nw2 '\r\n'
cp -a "$MAIL_DIR/$U" "$TMP/far1"
cp -a "$NEAR" "$TMP/near1"

fresh "$TMP/far1" "$TMP/near1" || exit 1
st=$(twinbox "$RC" "$TMP/ref2.out")
expect_eq "reference second sync exits 0" 0 "$st"
[ "$st" = 0 ] || cat "$TMP/ref2.out" >&2
WANT2=$(list_side far "$MAIL_DIR/$U")
expect_eq "reference second sync: 16 messages" 16 "$(wc -l <<<"$WANT2")"
expect_eq "reference second sync: merged flags and deletions" \
    "INBOX fa1 FRS|INBOX fa2 S|INBOX na3 FS|Work fw3 -|Work nw2 -|" \
    "$(awk '$2 ~ /^(fa1|fa2|fa3|na3|na5|fw3|nw2)$/ { print $1, $2, $4 }' \
    <<<"$WANT2" | tr '\n' '|')"
expect_eq "reference second sync: both sides equal" "" "$(mismatch "$WANT2")"
if [ "$failed" -ne 0 ]; then
	echo "imap_proxy_faults.sh: the reference runs fail; no sweep" >&2
	exit 1
fi

# The proxy's own framing where twinbox does not lead it (twinbox uses
# LITERAL+): an APPEND with a synchronizing literal passes through with the
# server's continuation request, and refused, gets the NO in its place;
# the session goes on either way.
# sync_append FAULT: the lines a client sees for "p1 APPEND" with a
# synchronizing literal, sent only after a continuation, then NOOP.
sync_append() {
	local line lines=""
	start_proxy "$1" 1 || return 1
	exec 3<>"/dev/tcp/127.0.0.1/$proxy_port" || return 1
	printf 'a0 LOGIN %s %s\r\n' "$U" "$PASSWORD" >&3
	while IFS= read -r -t 10 line <&3; do
		case $line in a0\ *) break ;; esac
	done
	printf 'p1 APPEND INBOX {%d}\r\n' "$(wc -c <"$TMP/farsrc/fw1")" >&3
	IFS= read -r -t 10 line <&3
	lines=${line%%\ injected*}
	case $line in
	+*) cat "$TMP/farsrc/fw1" >&3
	    printf '\r\n' >&3
	    IFS= read -r -t 10 line <&3
	    lines="$lines|${line%% \[APPENDUID*}" ;;
	esac
	printf 'p2 NOOP\r\np3 LOGOUT\r\n' >&3
	while IFS= read -r -t 10 line <&3; do
		case $line in p2\ *) lines="$lines|${line%% NOOP*}" ;; esac
	done
	exec 3<&-
	stop_proxy
	echo "$lines"
}
users=$((users + 1))
U=u$users
new_user "$U" "$TMP/far0" || { fail "cannot add user $U"; exit 1; }
expect_eq "proxy: a synchronizing literal passes" "+ OK|p1 OK|p2 OK" \
    "$(sync_append none | tr -d '\r')"
expect_eq "proxy: NO instead of the continuation request" \
    "p1 NO [SERVERBUG]|p2 OK" "$(sync_append no | tr -d '\r')"
expect_eq "proxy: one message appended of the two" 7 \
    "$(list_side far "$MAIL_DIR/$U" | grep -c '^INBOX ')"

# count_commands FARTREE NEARTREE: the commands of a sync, counted through
# a proxy that injects nothing; sets N.
count_commands() {
	N=
	fresh "$1" "$2" || return 1
	start_proxy none 1 || return 1
	write_rc "$RC" "$U" "$proxy_port" "$NEAR"
	st=$(twinbox "$RC" "$TMP/count.out")
	stop_proxy
	[ "$st" = 0 ] || { cat "$TMP/count.out" >&2; return 1; }
	N=$(report commands)
	[ -n "$N" ] && [ "$N" -gt 0 ] && sed 's/^/    /' "$TMP/proxy.log"
}
echo "commands of the first sync:"
count_commands "$TMP/far0" "$TMP/near0" ||
	{ fail "counting the commands of the first sync"; exit 1; }
N1=$N
echo "commands of the second sync:"
count_commands "$TMP/far1" "$TMP/near1" ||
	{ fail "counting the commands of the second sync"; exit 1; }
N2=$N

# ---- the sweep ----------------------------------------------------------

cases=0
cases_failed=0
failed_cases=""

# expected WANT FAULT: the expected listing after the fault just run.
expected() {
	local id box line
	id=$(report message-id)
	id=${id#<}
	id=${id%@*}
	case ${2%-late} in
	expunge)
		if [ -n "$id" ] && [ "$id" != - ]; then
			awk -v id="$id" '$2 != id' <<<"$1"
			return
		fi
		;;
	exists)
		box=$(report mailbox | tr -d '"' | tr . /)
		line=$(list_side far "$MAIL_DIR/$U" | awk -v id="$id" '$2 == id')
		# Absent or misplaced on the server: the comparison shows it.
		[ -n "$line" ] || line="$box $id (appended, then lost) -"
		sort <<<"$1
$line"
		return
		;;
	esac
	echo "$1"
}

# case_result NAME WHY: one line for the case; WHY empty means it passed.
case_result() {
	if [ -z "$2" ]; then
		echo "ok: $1"
		passed=$((passed + 1))
		return
	fi
	fail "$1" "$2"
	cases_failed=$((cases_failed + 1))
	failed_cases="$failed_cases
  $1"
}

# logout_unseen PHASE K: K is the phase's last command, the LOGOUT, and
# the proxy never saw it. twinbox closes without waiting for LOGOUT's
# answer; when the server has sent something it did not read (an EXISTS
# after the append of an "exists" fault), the close resets the connection
# and the LOGOUT on its way to the proxy can be lost with it. Nothing is
# lost to the sync: the run still has to converge.
logout_unseen() {
	local last=$N1
	[ "$1" = first ] || last=$N2
	[ "$2" = "$last" ] && [ -z "$(report command)" ]
}

# one_case PHASE FAULT K FARTREE NEARTREE WANT
one_case() {
	local name="$1 $2 k=$3" st why what
	# shellcheck disable=SC2053 # SWEEP_ONLY is a pattern
	[ -z "${SWEEP_ONLY:-}" ] || [[ "$name" == $SWEEP_ONLY ]] || return 0
	cases=$((cases + 1))
	if ! fresh "$4" "$5" >"$TMP/fresh.out"; then
		case_result "$name" "$(cat "$TMP/fresh.out")"
		return
	fi
	start_proxy "$2" "$3" ||
		{ case_result "$name" "no proxy: $(cat "$TMP/proxy.err")"; return; }
	write_rc "$RC.proxy" "$U" "$proxy_port" "$NEAR"
	st=$(twinbox "$RC.proxy" "$TMP/fault.out")
	stop_proxy
	what="$(report command)"
	[ -z "$(report uid)" ] || what="$what, uid $(report uid) $(report message-id)"
	[ -z "$(report note)" ] || what="$what, $(report note)"
	name="$name ($what)"
	if [ "$proxy_status" != 0 ] || [ -s "$TMP/proxy.err" ]; then
		case_result "$name" "the proxy failed (status $proxy_status): $(head -5 \
		    "$TMP/proxy.err")"
		return
	fi
	if [ "$(report fired)" != 1 ] && ! logout_unseen "$1" "$3"; then
		case_result "$name" "the fault did not fire"
		return
	fi
	why=$(crashed "$st" "$TMP/fault.out")
	if [ -n "$why" ]; then
		case_result "$name" "run through the proxy: $why"
		return
	fi
	case_result "$name" "$(converge "$(expected "$6" "$2")")"
}

# ks FAULT N: the k swept with FAULT over a sync of N commands. The last
# is the LOGOUT, whose answer twinbox does not wait for: what a -late kind
# would inject after that answer reaches nobody, so those stop before it.
ks() {
	local first=1 step=1 last=$2
	case $1 in *-late) last=$(($2 - 1)) ;; esac
	if [ "$FULL" != 1 ]; then
		case $1 in
		fetch | exists) step=2 ;;
		fetchuid | fetchuid-late) first=2 step=2 ;;
		esac
	fi
	{ seq "$first" "$step" "$last"; echo "$last"; } | sort -n -u
}

for fault in ${SWEEP_FAULTS:-expunge no drop fetch fetchuid fetchuid-late exists}; do
	for k in $(ks "$fault" "$N1"); do
		one_case first "$fault" "$k" "$TMP/far0" "$TMP/near0" "$WANT1"
	done
	for k in $(ks "$fault" "$N2"); do
		one_case second "$fault" "$k" "$TMP/far1" "$TMP/near1" "$WANT2"
	done
done

# ---- a message Dovecot refuses ------------------------------------------

# A zero-byte file in the Maildir: it is not sent (Dovecot would answer NO
# to its APPEND). Each run must say so (one warning naming it, exit 0, no
# error line), and nothing is copied twice.
zero_case() {
	local st i why="" want
	cases=$((cases + 1))
	cp -a "$TMP/near0" "$TMP/near0z"
	: >"$TMP/near0z/INBOX/new/1700003001.zero.near"
	fresh "$TMP/far0" "$TMP/near0z" >"$TMP/fresh.out" ||
		{ case_result "zero-byte message" "$(cat "$TMP/fresh.out")"; return; }
	for i in 1 2 3; do
		st=$(twinbox "$RC" "$TMP/zero$i.out")
		if [ "$st" != 0 ] || grep -a -q '^twinbox: error:' "$TMP/zero$i.out" ||
		    [ "$(grep -a -c '^twinbox: warning: c:INBOX: near message new/1700003001\.zero\.near,U=[0-9]* is empty (0 bytes): not copied' \
		    "$TMP/zero$i.out")" != 1 ]; then
			why="$why run $i: exit $st, not one warning naming the file:"
			why="$why $(tail -2 "$TMP/zero$i.out" | tr '\n' ' ');"
		fi
	done
	want=$(list_side near "$TMP/near0z" | awk '$2 == "-"')
	want=$(sort <<<"$WANT1
$want")
	st=$(list_side far "$MAIL_DIR/$U")
	[ "$st" = "$WANT1" ] || why="$why server: $(diff <(echo "$WANT1") \
	    <(echo "$st") | grep '^[<>]' | tr '\n' ' ');"
	st=$(list_side near "$NEAR")
	[ "$st" = "$want" ] || why="$why maildir: $(diff <(echo "$want") \
	    <(echo "$st") | grep '^[<>]' | tr '\n' ' ');"
	case_result "zero-byte message in the Maildir, three runs" "$why"
}
[ -n "${SWEEP_ONLY:-}" ] || zero_case

echo "imap_proxy_faults.sh: $cases cases, $((cases - cases_failed)) passed," \
    "$cases_failed failed; $passed checks passed, $failed failed"
if [ "$failed" -ne 0 ]; then
	[ -z "$failed_cases" ] || echo "failed cases:$failed_cases" >&2
	exit 1
fi
