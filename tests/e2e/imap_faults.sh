#!/bin/bash
# Failure paths of the twinbox binary on an IMAP <-> Maildir channel, against
# a private Dovecot:
#  1. crash sweep: for the first sync and for a second sync after changes on
#     both sides (new mail, flags, deletions, \Deleted with Expunge Both),
#     the run is killed at every step N (TWINBOX_CRASH_AFTER=N, N from 1
#     until the run ends by itself), then run again; each time no message
#     is lost or duplicated (by Message-ID, on both sides), both sides hold
#     the result of the uninterrupted run (folders, Message-IDs, flags) and
#     a dry run plans nothing;
#  2. cut connections: the counting relay (tests/tools/relay) between
#     twinbox and Dovecot's plain port cuts the session after N bytes, for
#     N spread over the whole first sync (densely over the first bytes:
#     greeting, login, LIST, SELECT; then across the FETCH literals and the
#     APPEND); the cut run exits with status 1 and an error line naming the
#     server, then a clean run reaches the uninterrupted result;
#  3. \Deleted set on either side with each Expunge policy (None, Far,
#     Near, Both): the message ends as the policy says on both sides.
# The server's side is read from the Maildir files Dovecot keeps for the
# user. Every case gets a fresh Dovecot user (made at start, unused until
# then) whose Maildir is a copy of a prepared tree, and a fresh near
# Maildir. Sweep sizes: every N of both crash sweeps (74 and 29 steps),
# and 70 cuts; about 40 s on two cores.
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
RELAY=$(abs_path "$BUILD/tests/tools/relay")
relay_pid=
cleanup_more() {
	[ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null
}
E2E_QUIET_PASS=1

if [ ! -x "$RELAY" ]; then
	echo "FAIL: $RELAY is missing (make build-all builds it)" >&2
	exit 1
fi
# Every user is made at start: Dovecot notices a change of its passwd-file
# by the file's modification time, which two additions within one second
# would not change.
MAXUSERS=600
start_dovecot "$TMP/srv" $(seq -f 'u%g' $MAXUSERS)

# ---- mailboxes ----------------------------------------------------------

# mkmsg FILE ID [LINES]: a message with Message-ID <ID@faults.test> and a
# body of LINES lines (default 2).
mkmsg() {
	{
		printf 'From: Sender <s@faults.test>\nTo: r@faults.test\n'
		printf 'Subject: message %s\nDate: Mon, 2 Jan 2023 10:00:00 +0000\n' "$2"
		printf 'Message-ID: <%s@faults.test>\n\n' "$2"
		awk -v n="${3:-2}" -v id="$2" 'BEGIN { for (i = 1; i <= n; i++)
		    printf "Line %d of %s, some words to make it longer.\n", i, id }'
	} >"$1"
}

# The far side: INBOX, Work and Lists.dev in Dovecot's Maildir++ layout,
# 18 messages with various flags, one already \Deleted.
make_far() {
	local d=$1 i
	mkbox "$d"
	mkbox "$d/.Work"
	mkbox "$d/.Lists.dev"
	touch "$d/.Work/maildirfolder" "$d/.Lists.dev/maildirfolder"
	for i in 01 02 03 04 05 06; do
		mkmsg "$d/cur/17000000$i.fi$i.far:2,S" "fi$i" 3
	done
	mkmsg "$d/cur/1700000007.fi07.far:2,FS" fi07 40
	mkmsg "$d/cur/1700000008.fi08.far:2,RS" fi08
	mkmsg "$d/new/1700000009.fi09.far" fi09 60
	mkmsg "$d/new/1700000010.fi10.far" fi10
	for i in 1 2 3 4 5; do
		mkmsg "$d/.Work/cur/170000010$i.fw$i.far:2,S" "fw$i" 5
	done
	mkmsg "$d/.Work/cur/1700000106.fw6.far:2,ST" fw6
	mkmsg "$d/.Lists.dev/cur/1700000201.fl1.far:2,F" fl1 20
	mkmsg "$d/.Lists.dev/new/1700000202.fl2.far" fl2
}

# The near side (SubFolders Verbatim): messages of its own in INBOX and
# Work, and a folder the server does not have.
make_near() {
	local d=$1
	mkbox "$d/INBOX"
	mkbox "$d/Work"
	mkbox "$d/Local"
	mkmsg "$d/INBOX/new/1700001001.ni1.near" ni1 30
	mkmsg "$d/INBOX/cur/1700001002.ni2.near:2,FS" ni2
	mkmsg "$d/Work/cur/1700001003.nw1.near:2,S" nw1
	mkmsg "$d/Local/new/1700001004.nl1.near" nl1 4
	mkmsg "$d/Local/cur/1700001005.nl2.near:2,RS" nl2
}

# write_rc FILE USER PORT NEAR EXPUNGE (Connections 1: the cuts count the
# bytes of one session; imap_parallel.sh sweeps the parallel runs)
write_rc() {
	cat >"$1" <<RC
IMAPAccount acct
Host 127.0.0.1
Port $3
User $2
Pass secret
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
Expunge $5
SyncState *
RC
}

# list_side far|near DIR: "folder id flags" of every message, sorted; the
# folder names are the canonical ones on both sides.
list_side() {
	find "$2" -type f \( -path '*/cur/*' -o -path '*/new/*' \) \
	    -print0 | xargs -0 -r awk -v root="$2/" -v side="$1" '
	FNR == 1 { found = 0 }
	!found && tolower($1) == "message-id:" {
		found = 1
		p = substr(FILENAME, length(root) + 1)
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
		id = $2
		sub("^<", "", id)
		sub("@.*", "", id)
		print box, id, fl
	}' | sort
}

# Duplicated (folder, Message-ID) pairs of a listing.
dups() {
	awk '{ print $1, $2 }' | sort | uniq -d | tr '\n' ' '
}

# twinbox RCFILE OUT [ARGS...]: run the binary, bounded; prints its status.
twinbox() {
	local rc=$1 out=$2
	shift 2
	timeout 60 "$BIN" -c "$rc" "$@" c >"$out" 2>&1
	st=$?
	# 2 is a usage or configuration error: never expected here.
	[ $st = 2 ] && sed 's/^/    twinbox: /' "$out" >&2
	echo $st
}

# check_result LABEL USER NEAR RC WANT: both sides hold exactly WANT, no
# duplicates, and a dry run plans nothing.
check_result() {
	local label=$1 far near st
	far=$(list_side far "$MAIL_DIR/$2")
	near=$(list_side near "$3")
	expect_eq "$label: no duplicate on the server" "" "$(dups <<<"$far")"
	expect_eq "$label: no duplicate locally" "" "$(dups <<<"$near")"
	expect_eq "$label: server holds the expected messages" "$5" "$far"
	expect_eq "$label: maildir holds the expected messages" "$5" "$near"
	st=$(twinbox "$4" "$TMP/dry.out" --dry-run)
	expect_eq "$label: dry run succeeds" 0 "$st"
	expect_eq "$label: dry run plans nothing" "" \
	    "$(grep -v -e 'dry run: nothing to do$' -e 'logging in as' \
	    "$TMP/dry.out")"
}

make_far "$TMP/far0"
make_near "$TMP/near0"
users=0

# fresh CASE FARTREE NEARTREE EXPUNGE [PORT]: a new user and near copy;
# sets U, NEAR, RC.
fresh() {
	users=$((users + 1))
	U=u$users
	[ $users -le $MAXUSERS ] || { fail "$1: more than $MAXUSERS users"; return 1; }
	NEAR=$TMP/case/$U
	RC=$TMP/case/$U.rc
	mkdir -p "$TMP/case"
	new_user "$U" "$2" || { fail "$1: cannot add user $U"; return 1; }
	cp -a "$3" "$NEAR"
	write_rc "$RC" "$U" "${5:-$IMAP_PORT}" "$NEAR" "$4"
}

# ---- reference runs -----------------------------------------------------

# The uninterrupted first sync gives the expected result of the first
# sweep; its output, changed on both sides, is the input of the second.
fresh "reference first sync" "$TMP/far0" "$TMP/near0" Both || exit 1
st=$(twinbox "$RC" "$TMP/ref1.out")
expect_eq "reference first sync exits 0" 0 "$st"
WANT1=$(list_side far "$MAIL_DIR/$U")
expect_eq "reference first sync: 22 messages" 22 "$(wc -l <<<"$WANT1")"
check_result "reference first sync" "$U" "$NEAR" "$RC" "$WANT1"

# Changes: far gets a new message, a flag, a deletion and a \Deleted; near
# the same on other messages.
cp -a "$MAIL_DIR/$U" "$TMP/far1"
cp -a "$NEAR" "$TMP/near1"
mkmsg "$TMP/far1/.Work/new/1700002001.fw9.far" fw9 6
f=$(grep -l 'fi02@' "$TMP/far1"/cur/*)
mv "$f" "${f%:2,*}:2,FS"
rm "$(grep -l 'fi03@' "$TMP/far1"/cur/*)"
f=$(grep -l 'fw2@' "$TMP/far1"/.Work/cur/*)
mv "$f" "${f%:2,*}:2,ST"
chown -R "$MAIL_OWNER" "$TMP/far1"
mkmsg "$TMP/near1/Lists/dev/new/1700002002.nl9.near" nl9 8
f=$(grep -l 'fi04@' "$TMP/near1"/INBOX/cur/*)
mv "$f" "${f%:2,*}:2,RS"
rm "$(grep -l 'fi05@' "$TMP/near1"/INBOX/cur/*)"
f=$(grep -l 'nl2@' "$TMP/near1"/Local/cur/*)
mv "$f" "${f%:2,*}:2,RST"

fresh "reference second sync" "$TMP/far1" "$TMP/near1" Both || exit 1
st=$(twinbox "$RC" "$TMP/ref2.out")
expect_eq "reference second sync exits 0" 0 "$st"
WANT2=$(list_side far "$MAIL_DIR/$U")
expect_eq "reference second sync: 20 messages" 20 "$(wc -l <<<"$WANT2")"
expect_eq "reference second sync: changes carried" \
    "INBOX fi02 FS|INBOX fi04 RS|Lists/dev nl9 |" \
    "$(grep -e fi02 -e fi04 -e nl9 -e fw2 -e nl2 -e fi03 -e fi05 \
    <<<"$WANT2" | tr '\n' '|')"
check_result "reference second sync" "$U" "$NEAR" "$RC" "$WANT2"

# ---- 1. crash sweep -----------------------------------------------------

# sweep NAME FARTREE NEARTREE WANT: kill at every step, resume, check.
sweep() {
	S_NAME=$1 S_FAR=$2 S_NEAR=$3 S_WANT=$4
	crash_sweep 400 sweep_fresh sweep_check
	echo "ok: $1: killed at each of $SWEPT steps, then resumed"
	[ "$SWEPT" -ge 10 ] || fail "$1: only $SWEPT steps"
}
sweep_fresh() {
	fresh "$S_NAME $1" "$S_FAR" "$S_NEAR" Both
}
sweep_check() {
	check_result "$S_NAME: $1" "$U" "$NEAR" "$RC" "$S_WANT"
}

export -n TWINBOX_CRASH_AFTER
sweep "first sync" "$TMP/far0" "$TMP/near0" "$WANT1"
sweep "second sync" "$TMP/far1" "$TMP/near1" "$WANT2"

# ---- 2. cut connections -------------------------------------------------

# start_relay CUT: a relay to Dovecot's plain port cutting after CUT bytes
# (0: never); sets relay_pid and relay_port.
start_relay() {
	local i args=()
	rm -f "$TMP/relay.port" "$TMP/relay.stats"
	[ "$1" -gt 0 ] && args=(--cut-after "$1")
	"$RELAY" --listen-port-file "$TMP/relay.port" \
	    --to "127.0.0.1:$IMAP_PORT" --stats-file "$TMP/relay.stats" \
	    --max-seconds 120 "${args[@]}" &
	relay_pid=$!
	for i in $(seq 400); do
		[ -s "$TMP/relay.port" ] && break
		sleep 0.05
	done
	relay_port=$(cat "$TMP/relay.port" 2>/dev/null)
	[ -n "$relay_port" ]
}

stop_relay() {
	kill "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null
	relay_pid=
}

# The whole session's byte count, through a relay that never cuts.
fresh "uncut session" "$TMP/far0" "$TMP/near0" Both || exit 1
start_relay 0 || { fail "relay does not start"; exit 1; }
write_rc "$RC" "$U" "$relay_port" "$NEAR" Both
st=$(twinbox "$RC" "$TMP/uncut.out")
stop_relay
expect_eq "uncut session through the relay exits 0" 0 "$st"
write_rc "$RC" "$U" "$IMAP_PORT" "$NEAR" Both
total=$(sed -n 's/^sent=\([0-9]*\) received=\([0-9]*\).*/\1 \2/p' \
    "$TMP/relay.stats" | awk '{ print $1 + $2 }')
check_result "uncut session" "$U" "$NEAR" "$RC" "$WANT1"
[ -n "$total" ] && [ "$total" -gt 3000 ] ||
	{ fail "uncut session: byte count '$total'"; exit 1; }

# Cut points: every 40 bytes over the first 1200 (greeting, login,
# NAMESPACE, LIST, the first SELECT), then 40 more evenly over the rest.
cuts="$(seq 1 40 1200) $(awk -v t="$total" 'BEGIN {
    for (i = 0; i < 40; i++) print int(1200 + (t - 1200) * i / 40) + 7 }')"
ncuts=0
for cut in $cuts; do
	[ "$cut" -lt "$total" ] || continue
	ncuts=$((ncuts + 1))
	fresh "cut $cut" "$TMP/far0" "$TMP/near0" Both || continue
	start_relay "$cut" || { fail "cut $cut: relay does not start"; continue; }
	write_rc "$RC.cut" "$U" "$relay_port" "$NEAR" Both
	st=$(twinbox "$RC.cut" "$TMP/cut.out")
	stop_relay
	expect_eq "cut after $cut of $total bytes exits 1" 1 "$st"
	if ! grep -q "^twinbox: error: .*127.0.0.1 port $relay_port" \
	    "$TMP/cut.out" || grep -q -i 'sanitizer\|runtime error' \
	    "$TMP/cut.out"; then
		fail "cut after $cut: no clear error line" "$(cat "$TMP/cut.out")"
	fi
	st=$(twinbox "$RC" "$TMP/clean.out")
	expect_eq "clean run after a cut at $cut exits 0" 0 "$st"
	[ "$st" = 0 ] || cat "$TMP/clean.out" >&2
	check_result "cut at $cut" "$U" "$NEAR" "$RC" "$WANT1"
done
echo "ok: $ncuts cuts over a session of $total bytes"

# ---- 3. \Deleted and the Expunge policies -------------------------------

mkbox "$TMP/far2"
for i in 1 2 3; do
	mkmsg "$TMP/far2/cur/170000300$i.e$i.far:2,S" "e$i"
done
mkbox "$TMP/near2/INBOX"
for pol in None Far Near Both; do
	for side in far near; do
		fresh "$pol/$side" "$TMP/far2" "$TMP/near2" "$pol" || continue
		st=$(twinbox "$RC" "$TMP/e1.out")
		expect_eq "Expunge $pol: first sync exits 0" 0 "$st"
		if [ $side = far ]; then
			f=$(grep -l 'e2@' "$MAIL_DIR/$U"/cur/*)
			mv "$f" "${f%:2,*}:2,ST"
		else
			f=$(grep -l 'e2@' "$NEAR"/INBOX/cur/*)
			mv "$f" "${f%:2,*}:2,ST"
		fi
		st=$(twinbox "$RC" "$TMP/e2.out")
		expect_eq "Expunge $pol, \\Deleted on $side: sync exits 0" 0 \
		    "$st"
		case $pol in
		None | Near) wf="INBOX e1 S|INBOX e2 ST|INBOX e3 S|" ;;
		*) wf="INBOX e1 S|INBOX e3 S|" ;;
		esac
		case $pol in
		None | Far) wn="INBOX e1 S|INBOX e2 ST|INBOX e3 S|" ;;
		*) wn="INBOX e1 S|INBOX e3 S|" ;;
		esac
		expect_eq "Expunge $pol, \\Deleted on $side: server" "$wf" \
		    "$(list_side far "$MAIL_DIR/$U" | tr '\n' '|')"
		expect_eq "Expunge $pol, \\Deleted on $side: maildir" "$wn" \
		    "$(list_side near "$NEAR" | tr '\n' '|')"
		st=$(twinbox "$RC" "$TMP/dry.out" --dry-run)
		expect_eq "Expunge $pol, \\Deleted on $side: dry run plans nothing" \
		    "" "$(grep -v -e 'dry run: nothing to do$' \
		    -e 'logging in as' "$TMP/dry.out")"
	done
done
echo "ok: \\Deleted on either side with Expunge None, Far, Near, Both"

echo "imap_faults.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
