#!/bin/bash
# Unchanged mailbox pairs skipped without SELECT, end to end: an IMAP
# (alice, far) <-> IMAP (bob, near) channel on a private Dovecot, five
# folders of twenty messages. What a run sent is read from its protocol
# log (-D), agreement of the two accounts from --verify.
#  1. after the run that copies and the run that earns the marks, a run
#     without changes sends per connection its login, NAMESPACE and one
#     LIST with RETURN (STATUS ...) (LIST-STATUS) together, and LOGOUT:
#     no SELECT or EXAMINE, no STATUS, no CAPABILITY; every state file is
#     version 2 with a mark on both sides;
#     a state file cut by a byte or with its last bytes zeroed under an
#     intact head is read whole, which reports the damage, not skipped;
#  2. a flag set on the server by another client: only that folder is
#     opened, the flag reaches the other account, and once the run after
#     it has earned the marks again nothing is opened;
#  3. a change of the policy (Expunge) opens every pair once;
#  4. a kill at every step of a run that carries changes both ways and
#     earns marks (TWINBOX_CRASH_AFTER=N): the next run finishes it, the
#     accounts agree, and two runs later nothing is opened;
#  5. a second Dovecot that does not advertise LIST-STATUS: its statuses
#     come from STATUS commands sent in one pipelined burst per account
#     (all sent before the first answer), and a run without changes still
#     opens nothing;
#  6. SubscribedOnly on the far store of the first Dovecot: LSUB cannot
#     ask for statuses, so the subscribed folders get one burst of STATUS,
#     and a run without changes opens nothing either.
# The other client is tests/tools/imapc. The servers are stopped and the
# directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the servers running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path IMAPC imapc

# Dovecot's list after login (NOTES.md) without LIST-STATUS.
NO_LIST_STATUS_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND \
URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED \
I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH \
BINARY MOVE SPECIAL-USE LITERAL+"
NBOXES=5

# start_populated DIR: a Dovecot with alice (100 messages in five
# folders) and bob (empty); loads its server.env.
start_populated() {
	start_dovecot "$1" alice bob
	if ! bash "$SERVER" populate "$1" alice 100 $NBOXES \
	    >"$TMP/populate.out" 2>&1; then
		echo "FAIL: populate:" >&2
		cat "$TMP/populate.out" >&2
		exit 1
	fi
}

# write_rc FILE EXPUNGE: the channel c from alice to bob on the Dovecot
# started last, its state in TMP/state-NAME (NAME the file's name).
write_rc() {
	local state=$TMP/state-${1##*/}
	mkdir -p "$state"
	{
		echo "SyncState $state/"
		echo
		rc_imap_account far alice
		echo
		rc_imap_account near bob
		cat <<RC

IMAPStore far
Account far

IMAPStore near
Account near

Channel c
Far :far:
Near :near:
Patterns *
Create Both
Expunge $2
RC
	} >"$1"
}

# run NAME RC [ENV...]: a sync of channel c, protocol logged to NAME.out;
# it must exit 0.
run() {
	local name=$1 rc=$2
	shift 2
	if env "$@" timeout 60 "$BIN" -D -c "$rc" c >"$TMP/$name.out" 2>&1
	then
		pass "run $name"
	else
		fail "run $name (exit $?)" "$(tail -20 "$TMP/$name.out")"
	fi
}

# verify NAME RC: both accounts hold the same messages with the same flags.
verify() {
	if timeout 60 "$BIN" --verify -c "$2" c >"$TMP/$1.verify" 2>&1; then
		pass "$1: the accounts agree"
	else
		fail "$1: the accounts agree" "$(tail -20 "$TMP/$1.verify")"
	fi
}

# sent NAME REGEX: how many commands run NAME sent that match REGEX
# (after the tag).
sent() {
	grep -cE "^debug: [^ ]+ >> [^ ]+ ($2)" "$TMP/$1.out"
}

# opened NAME: the folders (wire names, sorted, unique, space separated)
# that run NAME selected.
opened() {
	sed -n 's/^debug: [^ ]* >> [^ ]* SELECT "\([^"]*\)".*/\1/p' \
	    "$TMP/$1.out" | sort -u | tr '\n' ' ' | sed 's/ $//'
}

# quiet NAME: run NAME opened nothing and asked for no status but in its
# listing: per connection a login, NAMESPACE, LIST, LOGOUT.
quiet() {
	expect_eq "$1: no SELECT or EXAMINE" 0 "$(sent "$1" 'SELECT|EXAMINE')"
	expect_eq "$1: no CAPABILITY after the login" 0 \
	    "$(sent "$1" CAPABILITY)"
	expect_eq "$1: every pair up to date" $NBOXES \
	    "$(grep -c ': up to date$' "$TMP/$1.out")"
}

# ---- 1. a no-op opens nothing ----------------------------------------------

start_populated "$TMP/srv"
RC=$TMP/sync.rc
write_rc "$RC" Both
run copy "$RC"
run earn "$RC"
run noop "$RC"
verify noop "$RC"
quiet noop
expect_eq "noop: one LIST with RETURN (STATUS) per account" 2 \
    "$(sent noop 'LIST "" "\*" RETURN \(STATUS \(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ\)\)$')"
expect_eq "noop: no STATUS command" 0 "$(sent noop STATUS)"
expect_eq "noop: LIST sent right behind NAMESPACE, before its answer" 2 \
    "$(awk '/ >> [^ ]+ NAMESPACE$/ { ns = 1; next }
	/ >> [^ ]+ LIST / && ns { n++ }
	{ ns = 0 }
	END { print n + 0 }' "$TMP/noop.out")"
# LOGIN, ENABLE QRESYNC (sent without waiting), NAMESPACE, LIST, LOGOUT
expect_eq "noop: 5 commands per connection" 10 "$(sent noop '[A-Z]')"
expect_eq "noop: ENABLE QRESYNC sent with NAMESPACE, before its answer" 2 \
    "$(awk '/ >> [^ ]+ ENABLE QRESYNC$/ { en = 1; next }
	/ >> [^ ]+ NAMESPACE$/ && en { n++ }
	{ en = 0 }
	END { print n + 0 }' "$TMP/noop.out")"
expect_eq "noop: no warning" "" "$(grep 'warning' "$TMP/noop.out")"
for f in "$TMP"/state-sync.rc/*.twinboxstate; do
	expect_eq "state file ${f##*/}: version 2, marked on both sides" \
	    "twinbox-state 2 settled far settled near" \
	    "$(sed -n '1p; /^settled /s/^\(settled [a-z]*\).*/\1/p' "$f" |
	    tr '\n' ' ' | sed 's/ $//')"
done
expect_eq "five state files" $NBOXES \
    "$(ls "$TMP"/state-sync.rc/*.twinboxstate | wc -l)"

# ---- 1b. a state file not written to its end is not trusted -----------------
# The Archive pair's state file cut by a byte, or its last bytes zeroed (a
# crash before the data reached the disk), under an intact head: the run
# reads the state whole, which reports the damage (exit 1), instead of
# skipping the pair on the head's word; the file whole again, nothing is
# opened.

SF=$(ls "$TMP"/state-sync.rc/*Archive*.twinboxstate)
cp "$SF" "$TMP/archive.keep"
for way in cut zeroed; do
	size=$(stat -c %s "$SF")
	if [ $way = cut ]; then
		truncate -s $((size - 1)) "$SF"
	else
		dd if=/dev/zero of="$SF" bs=1 count=9 seek=$((size - 9)) \
		    conv=notrunc status=none
	fi
	timeout 60 "$BIN" -D -c "$RC" c >"$TMP/$way.out" 2>&1
	expect_eq "$way state file: exit status" 1 "$?"
	expect_eq "$way state file: the other pairs up to date" \
	    $((NBOXES - 1)) "$(grep -c ': up to date$' "$TMP/$way.out")"
	expect_eq "$way state file: Archive not skipped" 0 \
	    "$(grep -c 'Archive.*: not opened$' "$TMP/$way.out")"
	expect_eq "$way state file: the damage is reported" 1 \
	    "$(grep -c "error: .*${SF##*/}:[0-9]*: bad record" "$TMP/$way.out")"
	cp "$TMP/archive.keep" "$SF"
	run "$way-whole" "$RC"
	expect_eq "$way state file whole again: nothing opened" "" \
	    "$(opened "$way-whole")"
done

# ---- 2. a flag changed on the server -----------------------------------------

"$IMAPC" "$IMAP_PORT" alice secret >"$TMP/flag.imapc" 2>&1 <<EOF ||
SELECT "Archive"
STORE 3 +FLAGS (\\Flagged)
EOF
	fail "other client flags a message" "$(cat "$TMP/flag.imapc")"
run flag "$RC"
expect_eq "flag: only Archive is opened" Archive "$(opened flag)"
expect_eq "flag: the flag reached bob" 1 \
    "$(grep -c '^far->near: 0 copied, 1 flagged' <(sed -n \
    's/^c:Archive: //p' "$TMP/flag.out"))"
verify flag "$RC"
run flag-settle "$RC"
expect_eq "flag-settle: at most Archive is opened" "" \
    "$(opened flag-settle | sed 's/^Archive$//')"
run flag-noop "$RC"
quiet flag-noop

# ---- 3. a policy change opens every pair once -------------------------------

write_rc "$RC" Near
run policy "$RC"
expect_eq "policy: every folder is opened" \
    "Archive Entw&APw-rfe INBOX Lists Sent" "$(opened policy)"
run policy-noop "$RC"
quiet policy-noop

# ---- 4. kill at every step of a run that earns marks -------------------------

n=1
steps=0
while [ $n -le 60 ]; do
	mkdir -p "$TMP/msg"
	printf 'From: k@peek.test\nSubject: kill %s\nMessage-ID: <kill%s@peek.test>\n\nkill %s\n' \
	    "$n" "$n" "$n" >"$TMP/msg/kill$n.eml"
	"$IMAPC" "$IMAP_PORT" alice secret >"$TMP/kill.imapc" 2>&1 <<EOF ||
SELECT "Sent"
STORE $n FLAGS (\\Answered)
EOF
		fail "kill $n: other client flags on alice" "$(cat "$TMP/kill.imapc")"
	"$IMAPC" "$IMAP_PORT" bob secret >>"$TMP/kill.imapc" 2>&1 <<EOF ||
@append Lists $TMP/msg/kill$n.eml (\\Seen)
EOF
		fail "kill $n: other client appends on bob" "$(cat "$TMP/kill.imapc")"
	# In a subshell, so that bash does not report the kill.
	st=$( (TWINBOX_CRASH_AFTER=$n timeout 60 "$BIN" -c "$RC" c \
	    >"$TMP/kill.out" 2>&1); echo $?)
	if [ "$st" != 137 ]; then
		expect_eq "kill: the run past the last step ($n) exits 0" 0 "$st"
		steps=$((n - 1))
		break
	fi
	run "resume-$n" "$RC"
	run "settle-$n" "$RC"
	run "after-$n" "$RC"
	quiet "after-$n"
	verify "kill-$n" "$RC"
	expect_eq "kill $n: the new message once on alice" 1 \
	    "$("$IMAPC" "$IMAP_PORT" alice secret <<EOF | grep -c 'SEARCH [0-9]'
SELECT "Lists"
SEARCH HEADER Message-ID "<kill$n@peek.test>"
EOF
)"
	n=$((n + 1))
done
echo "ok: killed at each of $steps steps of a run that earns marks"
[ "$steps" -ge 4 ] || fail "kill sweep: only $steps steps"

# ---- 5. no LIST-STATUS: one burst of STATUS -----------------------------------

TEST_SERVER_CAPS=$NO_LIST_STATUS_CAPS start_populated "$TMP/srv2"
RC2=$TMP/sync2.rc
write_rc "$RC2" Both
run copy2 "$RC2"
run earn2 "$RC2"
run noop2 "$RC2"
verify noop2 "$RC2"
quiet noop2
expect_eq "noop2: no LIST with RETURN" 0 "$(sent noop2 'LIST .*RETURN')"
expect_eq "noop2: one STATUS a folder and account" $((2 * NBOXES)) \
    "$(sent noop2 'STATUS "[^"]*" \(MESSAGES UIDNEXT UIDVALIDITY HIGHESTMODSEQ\)$')"
# Bursts: a STATUS sent after an answer to a STATUS starts a new one.
expect_eq "noop2: the STATUS commands went out in one burst per account" 2 \
    "$(awk '
	/ >> [^ ]+ STATUS / { if (!sending) bursts++; sending = 1; tags[$4] = 1 }
	/ << [^ *]+ (OK|NO|BAD)/ { if ($4 in tags) sending = 0 }
	END { print bursts + 0 }' "$TMP/noop2.out")"
expect_eq "noop2: no warning" "" "$(grep 'warning' "$TMP/noop2.out")"

# ---- 6. SubscribedOnly: LSUB, then one burst of STATUS ----------------------

. "$TMP/srv/server.env"
"$IMAPC" "$IMAP_PORT" alice secret >"$TMP/sub.imapc" 2>&1 <<EOF ||
SUBSCRIBE INBOX
SUBSCRIBE Archive
EOF
	fail "other client subscribes" "$(cat "$TMP/sub.imapc")"
RC3=$TMP/sync3.rc
write_rc "$RC3" Both
# Only the subscribed folders, which the other folders of bob do not
# make look missing on the far side.
sed -i -e 's/^Account far$/Account far\nSubscribedOnly yes/' \
    -e 's/^Patterns \*$/Patterns INBOX Archive/' "$RC3"
run sub-earn "$RC3"
run sub-noop "$RC3"
expect_eq "sub-noop: no SELECT or EXAMINE" 0 "$(sent sub-noop 'SELECT|EXAMINE')"
expect_eq "sub-noop: the far side listed by LSUB" 1 "$(sent sub-noop 'LSUB ')"
expect_eq "sub-noop: one STATUS a subscribed folder" 2 \
    "$(sent sub-noop 'STATUS ')"
expect_eq "sub-noop: both pairs up to date" 2 \
    "$(grep -c ': up to date$' "$TMP/sub-noop.out")"

echo "imap_peek.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
