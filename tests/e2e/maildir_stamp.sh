#!/bin/bash
# The Maildir side of a no-op: a near folder whose stamp (the times of its
# cur/ and new/, docs/maildir.md) still equals its settled mark is not
# listed. Directory times are set with touch -d to make a folder look old
# (as it would after a quiet hour) or fresh (ahead of the real clock);
# nothing waits for the clock and no assertion depends on how long a run
# takes (the 3 s margin itself is check_maildir_stamp's). Which
# folders a run did not list is read from the debug log (-D).
#  A. IMAP (Dovecot) far <-> Maildir near, folders INBOX and Work:
#     1. after a first sync and a second one over old directories, a
#        third with nothing changed lists neither near folder, writes no
#        state and reads no directory for file names;
#     2. each change a mail reader makes, with the folder old again
#        afterwards (another time than the mark's): a flag rename in cur/,
#        a new file in new/, a deletion, a file moved in from Work with a
#        ,U= that INBOX holds too: the next run lists that folder and
#        carries the change to the server, and once old again the folder
#        is skipped again;
#     3. the coarse clock: a rename whose directory time the run cannot
#        vouch for (set an hour ahead of the real clock, which the rule
#        treats as fresh, as it does a time within the last 3 s, however
#        long the run takes to start); that run earns no mark (the state
#        says so); a second rename is given cur/'s very same time back
#        (what a file system with coarse times would do within one
#        granule), and the next run still finds it;
#     4. a flag changed on the server with both near folders settled:
#        INBOX's file names are read while its SELECT is answered.
#  B. Maildir <-> Maildir, near settled and not listed while far brings
#     a flag change, a deletion and a new message: a kill -9 at every step
#     of that run, and each of the mail reader's changes above made at
#     every step of it, and two more on the messages the run itself
#     renames or removes (a flag added to the one the far side flags; the
#     one the far side deleted removed); then at most two clean runs end
#     with both sides equal to the uninterrupted result changed as the
#     reader did.
#  C. The same over IMAP (Dovecot, one connection) <-> Maildir, a fresh
#     user for each case: the near folder's file names are read while
#     INBOX's SELECT is answered, so the steps include one between that
#     reading and the renames it serves.
# After every run both sides hold the same messages with the same flags.
# Run from the top of the tree; tests/run-all.sh runs it with sh. About
# 600 runs of the binary in B and C. STAMP_KINDS (maildir imap) and
# STAMP_WAYS (crash rename new delete move seen gone) narrow the sweeps;
# KEEP=1 leaves the directory and the server.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

# alice for A; u1, u2, ... one for each case of C.
MAXUSERS=200
start_dovecot "$TMP/srv" alice $(seq -f 'u%g' $MAXUSERS)

# A time long past; each settling uses another, as the clock moves on.
OLD=1600000000

# msg FILE ID: a message with Message-ID <ID@stamp.test>.
msg() {
	printf 'From: a@stamp.test\nSubject: %s\nMessage-ID: <%s@stamp.test>\n\n%s\n' \
	    "$2" "$2" "$2" >"$1"
}

# age ROOT SECONDS: every cur/ and new/ under ROOT gets that mtime.
age() {
	find "$1" -type d \( -name cur -o -name new \) \
	    -exec touch -d "@$2" {} +
}

# listing ROOT: "folder id flags" of every message of a Maildir tree, the
# folder named by its directory relative to ROOT ("." for ROOT itself,
# Maildir++ dots kept), sorted.
listing() {
	local f rel dir id
	find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | sort |
	while read -r f; do
		rel=${f#"$1"/}
		dir=${rel%/*/*}
		[ "$dir" = "$rel" ] && dir=.
		id=$(sed -n 's/^Message-ID: <\([^@]*\)@.*/\1/p' "$f")
		echo "$dir $id $(sed -n 's/.*:2,\([A-Z]*\).*/\1/p' <<<"${f##*/}")"
	done | sed -e 's/^\. /INBOX /' -e 's/^\.Work /Work /' | sort
}

# same LABEL: far and near hold the same messages with the same flags.
same() {
	expect_eq "$1: far and near hold the same" "$(listing "$FAR")" \
	    "$(listing "$NEAR")"
}

# run LABEL [ENV...]: a -D run of channel c; its output in $OUT.
run() {
	local label=$1 st
	shift
	OUT=$TMP/out
	env "$@" timeout 60 "$BIN" -c "$RC" -D c >"$OUT" 2>&1
	st=$?
	expect_eq "$label: exits 0" 0 "$st"
	[ "$st" = 0 ] || tail -20 "$OUT" >&2
}

# Near folders not listed: those whose stamp stood in for the listing,
# and those of pairs not even opened (both sides quiet).
skipped() {
	grep -c -e "near side unchanged since its stamp [0-9]*: not listed" \
	    -e "both sides as the last run left them .*: not opened" "$OUT"
}

# ---- A: IMAP <-> Maildir ------------------------------------------------

FAR=$MAIL_DIR/alice
NEAR=$TMP/near
STATE=$TMP/state
mkdir -p "$STATE"
mkbox "$NEAR/INBOX"
mkbox "$NEAR/Work"
msg "$NEAR/INBOX/cur/1700000001.i1.host:2,S" i1
msg "$NEAR/INBOX/cur/1700000002.i2.host:2," i2
msg "$NEAR/INBOX/new/1700000003.i3.host" i3
msg "$NEAR/Work/cur/1700000004.w1.host:2,S" w1
msg "$NEAR/Work/cur/1700000005.w2.host:2,F" w2
RC=$TMP/rc
{
	printf 'SyncState %s/\n\n' "$STATE"
	rc_imap_account alice
	printf '\nIMAPStore far\nAccount alice\n\n'
	printf 'MaildirStore near\nPath %s/\nInbox %s/INBOX\n' "$NEAR" "$NEAR"
	printf 'SubFolders Verbatim\n\n'
	printf 'Channel c\nFar :far:\nNear :near:\nPatterns *\n'
	printf 'Create Both\nExpunge Both\n'
} >"$RC"

run "A first sync"
same "A first sync"
expect_eq "A: far got the near messages" 5 "$(listing "$FAR" | wc -l)"
age "$NEAR" $OLD
run "A second sync"
expect_eq "A second sync: lists both near folders" 0 "$(skipped)"
expect_eq "A second sync: both near folders earn a mark" 2 \
    "$(cat "$STATE"/* | grep -c '^settled near ')"
sums=$(cksum "$STATE"/*)
run "A third sync"
expect_eq "A third sync: lists neither near folder" 2 "$(skipped)"
expect_eq "A third sync: reads no directory for file names" 0 \
    "$(grep -c 'listed for the names' "$OUT")"
expect_eq "A third sync: writes no state" "$sums" "$(cksum "$STATE"/*)"
same "A third sync"

# settle STEP: the near folders old again (another time than before),
# one run that lists and marks them, one that lists neither.
settle() {
	age "$NEAR" $((OLD + $1 * 100))
	run "A $1: settling run"
	run "A $1: settled run"
	expect_eq "A $1: neither near folder listed once settled" 2 \
	    "$(skipped)"
}

# change STEP WHAT: after the reader's change (and the folder made old),
# the next run lists INBOX only and carries the change over.
change() {
	age "$NEAR/INBOX" $((OLD + $1 * 100 + 50))
	run "A $1 ($2)"
	expect_eq "A $1 ($2): INBOX listed, Work not" 1 "$(skipped)"
	same "A $1 ($2)"
	settle "$1"
}

in_inbox() {
	grep -l "Message-ID: <$1@" "$NEAR"/INBOX/cur/* "$NEAR"/INBOX/new/* |
	    head -1
}

f=$(in_inbox i1)
mv "$f" "${f%:2,*}:2,FS"
change 1 "a flag rename in cur/"
expect_eq "A 1: the flag reached the server" "INBOX i1 FS" \
    "$(listing "$FAR" | grep ' i1 ')"

msg "$NEAR/INBOX/new/1700000006.i4.host" i4
change 2 "a new file in new/"
expect_eq "A 2: the new message reached the server" "INBOX i4 " \
    "$(listing "$FAR" | grep ' i4 ')"

rm "$(in_inbox i2)"
change 3 "a deletion"
expect_eq "A 3: the deletion reached the server" "" \
    "$(listing "$FAR" | grep ' i2 ')"

f=$(grep -l 'Message-ID: <w1@' "$NEAR"/Work/cur/*)
u=$(sed -n 's/.*,U=\([0-9]*\).*/\1/p' <<<"${f##*/}")
expect_eq "A 4: w1's UID $u is taken in INBOX too" 1 \
    "$(ls "$NEAR/INBOX/cur" "$NEAR/INBOX/new" | grep -c ",U=$u\(:\|$\)")"
touch -d @1000 "$f"
mv "$f" "$NEAR/INBOX/cur/"
age "$NEAR" $((OLD + 450))
run "A 4 (a file moved in with the same ,U=)"
expect_eq "A 4: both folders listed" 0 "$(skipped)"
same "A 4"
expect_eq "A 4: w1 moved on the server too" "INBOX w1 S" \
    "$(listing "$FAR" | grep ' w1 ')"
settle 4

# The coarse clock: INBOX changed at a time the run cannot vouch for.
# (An hour ahead rather than a second before the run: a time in the
# recent past is fresh only while the run starts within 3 s.)
f=$(in_inbox i3)
mv "$f" "${f%:2,*}:2,R"
touch -d "@$(($(date +%s) + 3600))" "$NEAR/INBOX/cur" "$NEAR/INBOX/new"
run "A 5 (a rename at a time too recent to vouch for)"
expect_eq "A 5: INBOX listed" 1 "$(skipped)"
expect_eq "A 5: INBOX earns no mark from times that recent" 1 \
    "$(cat "$STATE"/* | grep -c '^settled near ')"
touch -r "$NEAR/INBOX/cur" "$TMP/granule"
f=$(in_inbox i1)
mv "$f" "${f%:2,*}:2,FRS"
touch -r "$TMP/granule" "$NEAR/INBOX/cur"
run "A 6 (a rename in the same granule)"
expect_eq "A 6: INBOX listed" 1 "$(skipped)"
same "A 6"
expect_eq "A 6: the second rename reached the server" "INBOX i1 FRS" \
    "$(listing "$FAR" | grep ' i1 ')"
settle 6

# select_order: in the last run's -D log, the order of INBOX's SELECT,
# the reading of INBOX's file names and the first SELECT's answer after
# the SELECT ("SELECT names answer" when the names were read while the
# server answered).
select_order() {
	grep -o -e '>> [A-Z0-9]* SELECT "INBOX"' \
	    -e 'maildir INBOX: listed for the names' \
	    -e '<< [A-Z0-9]* OK \[READ-WRITE\] Select completed' "$OUT" |
	    sed -e 's/.*SELECT "INBOX"/SELECT/' -e 's/.*listed.*/names/' \
	    -e 's/.*Select completed/answer/' | head -3 | xargs
}

# A flag changed on the server while the near folders are settled: the
# run reads INBOX's file names (for the rename) while the server answers
# INBOX's SELECT, i.e. before the answer is read.
f=$(grep -l 'Message-ID: <i1@' "$FAR"/cur/*)
mv "$f" "${f%:2,*}:2,RS"
run "A 7 (a flag changed on the server)"
expect_eq "A 7: INBOX's names read before its SELECT's answer" \
    "SELECT names answer" "$(select_order)"
same "A 7"
expect_eq "A 7: the server's flags reached INBOX" "INBOX i1 RS" \
    "$(listing "$NEAR" | grep ' i1 ')"

# ---- B: Maildir <-> Maildir sweep, C: IMAP <-> Maildir sweep ------------

E2E_QUIET_PASS=1
B=$TMP/b
mkbox "$B/far0"
mkbox "$B/far0/.Work"
touch "$B/far0/.Work/maildirfolder"
msg "$B/far0/cur/1700000101.f1.far:2,S" f1
msg "$B/far0/cur/1700000102.f2.far:2," f2
msg "$B/far0/cur/1700000103.f3.far:2," f3
msg "$B/far0/cur/1700000104.f4.far:2,F" f4
msg "$B/far0/cur/1700000105.f5.far:2,S" f5
msg "$B/far0/.Work/cur/1700000106.w1.far:2,S" w1
msg "$B/far0/.Work/cur/1700000107.w2.far:2," w2
mkbox "$B/near0/INBOX"
mkbox "$B/near0/Work"

# case_rc: the channel of the case in $CASE, its far side a Maildir
# ($CASE/far) or, with KIND imap, the Dovecot user $CASE_USER (one
# connection: the hook holds only the thread that takes its step).
case_rc() {
	RC=$CASE/rc
	FAR=$CASE/far
	NEAR=$CASE/near
	[ "$KIND" = imap ] && FAR=$MAIL_DIR/$CASE_USER
	{
		printf 'FSync no\nSyncState %s/state/\n\n' "$CASE"
		if [ "$KIND" = imap ]; then
			rc_imap_account acct "$CASE_USER"
			printf 'Connections 1\nTimeout 20\n\n'
			printf 'IMAPStore far\nAccount acct\n\n'
		else
			printf 'MaildirStore far\nInbox %s\n' "$FAR"
			printf 'SubFolders Maildir++\n\n'
		fi
		printf 'MaildirStore near\nPath %s/\nInbox %s/INBOX\n' \
		    "$NEAR" "$NEAR"
		printf 'SubFolders Verbatim\n\n'
		printf 'Channel c\nFar :far:\nNear :near:\nPatterns *\n'
		printf 'Create Both\nExpunge Both\n'
	} >"$RC"
}

users=0

# next_user: CASE_USER a Dovecot user not used before.
next_user() {
	users=$((users + 1))
	CASE_USER=u$users
	[ $users -le $MAXUSERS ] || fail "$SEC: more than $MAXUSERS users"
}

# first_sync: $B/first, both sides after a first sync (with KIND imap,
# the far side is the Maildir of the user in $B/first/user).
first_sync() {
	CASE=$B/first
	rm -rf "$CASE"
	mkdir -p "$CASE/state"
	cp -a "$B/near0" "$CASE/near"
	if [ "$KIND" = imap ]; then
		next_user
		echo "$CASE_USER" >"$CASE/user"
		cp -a "$B/far0" "$MAIL_DIR/$CASE_USER"
		chown -R "$MAIL_OWNER" "$MAIL_DIR/$CASE_USER"
	else
		cp -a "$B/far0" "$CASE/far"
	fi
	case_rc
	run "$SEC first sync"
	same "$SEC first sync"
}

# fresh: a copy of the first sync's trees (with KIND imap the far one
# under a new user: Dovecot's indexes and UIDs go with it), the near one
# settled (a copy has other directories, so its marks are earned again),
# then the far side's changes: f2 flagged, f3 deleted, f7 new.
fresh() {
	local f
	rm -rf "$B/case"
	CASE=$B/case
	cp -a "$B/first" "$CASE"
	if [ "$KIND" = imap ]; then
		next_user
		cp -a "$MAIL_DIR/$(cat "$B/first/user")" "$MAIL_DIR/$CASE_USER"
	fi
	case_rc
	age "$NEAR" $OLD
	run "$SEC settling run"
	f=$(grep -l 'Message-ID: <f2@' "$FAR"/cur/*)
	mv "$f" "${f%:2,*}:2,F"
	rm "$(grep -l 'Message-ID: <f3@' "$FAR"/cur/*)"
	msg "$FAR/new/1700000108.f7.far" f7
	if [ "$KIND" = imap ]; then
		chown -R "$MAIL_OWNER" "$FAR"
	fi
}

# The reader, run by the binary at the chosen step: reader.sh WAY NEAR.
cat >"$B/reader.sh" <<'SH'
near=$2
of() { grep -l "Message-ID: <$2@" "$1"/cur/* "$1"/new/* | head -1; }
case $1 in
rename) f=$(of "$near/INBOX" f1); mv "$f" "${f%:2,*}:2,FS" ;;
new) printf 'Message-ID: <n1@stamp.test>\n\nn1\n' \
	>"$near/INBOX/new/1700000109.n1.near" ;;
delete) rm "$(of "$near/INBOX" f5)" ;;
move) f=$(of "$near/Work" w2); touch -d @1000 "$f"
	mv "$f" "$near/INBOX/cur/" ;;
seen) f=$(of "$near/INBOX" f2)
	mv "$f" "${f%:2,*}:2,$(printf '%sS' "${f##*:2,}" | fold -w1 | sort |
	    tr -d '\n')" ;;
gone) rm "$(of "$near/INBOX" f3)" ;;
esac
SH

# uninterrupted: the run the sweeps interrupt, run through; its result
# in BASE.
uninterrupted() {
	fresh
	run "$SEC uninterrupted"
	expect_eq "$SEC uninterrupted: neither near folder was listed" 2 \
	    "$(skipped)"
	expect_eq "$SEC uninterrupted: names read for the far changes" 1 \
	    "$(grep -c 'listed for the names' "$OUT")"
	if [ "$KIND" = imap ]; then
		expect_eq "$SEC uninterrupted: names read before the answer" \
		    "SELECT names answer" "$(select_order)"
	fi
	BASE=$(listing "$FAR")
	expect_eq "$SEC uninterrupted: result" "INBOX f1 S|INBOX f2 F|\
INBOX f4 F|INBOX f5 S|INBOX f7 |Work w1 S|Work w2 |" \
	    "$(tr '\n' '|' <<<"$BASE")"
	same "$SEC uninterrupted"
}

want_after() {
	case $1 in
	crash) echo "$BASE" ;;
	rename) sed 's/^INBOX f1 S$/INBOX f1 FS/' <<<"$BASE" ;;
	new) { echo "$BASE"; echo "INBOX n1 "; } | sort ;;
	delete) grep -v ' f5 ' <<<"$BASE" ;;
	move) sed 's/^Work w2 $/INBOX w2 /' <<<"$BASE" | sort ;;
	seen) sed 's/^INBOX f2 F$/INBOX f2 FS/' <<<"$BASE" ;;
	gone) echo "$BASE" ;;
	esac
}

# sweep WAY: WAY (crash, or the reader's) at every step of the run.
sweep() {
	local way=$1 n=1 label st want
	want=$(want_after "$way")
	while [ $n -le 100 ]; do
		label="$SEC $way at step $n"
		fresh
		rm -f "$CASE/hooked"
		if [ "$way" = crash ]; then
			# (In a command substitution: no "Killed" line.)
			st=$(env TWINBOX_CRASH_AFTER=$n timeout 60 "$BIN" \
			    -c "$RC" c >"$CASE/hooked.out" 2>&1; echo $?)
			[ "$st" = 137 ] && touch "$CASE/hooked"
		else
			st=$(env TWINBOX_HOOK_AT=$n TWINBOX_HOOK_CMD="sh \
			    '$B/reader.sh' $way '$NEAR'; touch '$CASE/hooked'" \
			    timeout 60 "$BIN" -c "$RC" c >"$CASE/hooked.out" \
			    2>&1; echo $?)
		fi
		if [ ! -e "$CASE/hooked" ]; then
			expect_eq "$label: a run past the last step exits 0" \
			    0 "$st"
			break
		fi
		case $st in
		0|1|137) pass "$label: exits as expected" ;;
		*) fail "$label: exits with $st" "$(cat "$CASE/hooked.out")" ;;
		esac
		expect_eq "$label: no sanitizer report" "" \
		    "$(grep -e Sanitizer -e 'runtime error' "$CASE/hooked.out")"
		for r in 1 2; do
			run "$label: clean run $r"
			[ "$(listing "$FAR")" = "$want" ] &&
			    [ "$(listing "$NEAR")" = "$want" ] && break
		done
		expect_eq "$label: far" "$want" "$(listing "$FAR")"
		expect_eq "$label: near" "$want" "$(listing "$NEAR")"
		n=$((n + 1))
	done
	echo "ok: $SEC $way at each of $((n - 1)) steps"
	[ $n -gt 5 ] || fail "$SEC $way: only $((n - 1)) steps"
}

for KIND in ${STAMP_KINDS:-maildir imap}; do
	SEC=B
	[ "$KIND" = imap ] && SEC=C
	first_sync
	uninterrupted
	for way in ${STAMP_WAYS:-crash rename new delete move seen gone}; do
		sweep "$way"
	done
done

echo "maildir_stamp: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
