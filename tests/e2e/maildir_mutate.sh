#!/bin/bash
# A mail reader working in the Maildir while twinbox syncs it: the Maildir
# mutator. The binary runs with TWINBOX_HOOK_AT=N (src/sync/crash.h),
# which runs a command at the N-th step (a journal record or a store
# operation) and goes on; the command changes the near Maildir in one of
# four ways:
#   rename    a flag change (fi01 S -> FS), the name otherwise kept;
#   move      nw1 moved from Work into INBOX keeping its name, whose ,U=
#             another INBOX file holds, the moved file made the older;
#   delete    fi03 removed;
#   collide   a new message added to Work under the ,U= of nw2, older,
#             delivered as a Maildir writer does: written and dated in
#             tmp/, then renamed into cur/ (never written in place: a sync
#             may rename the file between a write and a touch, and touch
#             would then make an empty file under the old name).
# For each, N sweeps over every step of a second sync (new mail, flags and
# deletions on both sides pending), on a Maildir <-> Maildir channel (the
# near Maildir changed, then the far one, the same way) and on an IMAP
# (Dovecot) <-> Maildir channel with Connections 1: the hook holds only
# the thread that takes step N, so with several connections the other
# folder's pair would go on while the command runs, and step N would be
# no fixed instant of the run. On IMAP the steps include, for each
# folder, one between the SELECT sent ahead and the reading of its answer,
# while the Maildir has been listed (the hooked run traces the protocol,
# -Dn, and the sweep fails if no step fell in that window). After each:
# the hooked run
# exits 0 or 1 with no sanitizer report; then at most two clean runs
# (each exits 0) leave both sides holding exactly the messages of the
# uninterrupted sync changed as the mutation says (the union minus the
# deleted, a moved message in its new folder only, each once), with the
# three-way merged flags and the same bytes in both copies of every
# message; and a dry run plans nothing.
# Run from the top of the tree; tests/run-all.sh runs it with sh. Every
# Dovecot case gets a fresh user; about 32 s of CPU time (17 and 22 steps
# per mutation). MUTATE_TARGETS (maildir:near maildir:far imap:near) and
# MUTATE_WAYS (rename move delete collide) narrow the sweep; KEEP=1 leaves
# the directory and the server, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
E2E_QUIET_PASS=1

MAXUSERS=300
start_dovecot "$TMP/srv" $(seq -f 'u%g' $MAXUSERS)

# ---- mailboxes ----------------------------------------------------------

# mkmsg FILE ID: a message with Message-ID <ID@mutate.test>.
mkmsg() {
	printf 'From: s@mutate.test\nSubject: %s\nMessage-ID: <%s@mutate.test>\n\nBody of %s.\n' \
	    "$2" "$2" "$2" >"$1"
}

# The far side in Maildir++ (Dovecot's layout): INBOX and Work.
make_far() {
	local d=$1
	mkbox "$d"
	mkbox "$d/.Work"
	touch "$d/.Work/maildirfolder"
	mkmsg "$d/cur/1700000001.fi01.far:2,S" fi01
	mkmsg "$d/cur/1700000002.fi02.far:2,S" fi02
	mkmsg "$d/cur/1700000003.fi03.far:2," fi03
	mkmsg "$d/cur/1700000004.fi04.far:2," fi04
	mkmsg "$d/cur/1700000005.fi05.far:2,F" fi05
	mkmsg "$d/new/1700000006.fi06.far" fi06
	mkmsg "$d/.Work/cur/1700000101.fw1.far:2,S" fw1
	mkmsg "$d/.Work/cur/1700000102.fw2.far:2," fw2
	mkmsg "$d/.Work/cur/1700000103.fw3.far:2," fw3
}

# The near side, SubFolders Verbatim.
make_near() {
	local d=$1
	mkbox "$d/INBOX"
	mkbox "$d/Work"
	mkmsg "$d/INBOX/new/1700001001.ni1.near" ni1
	mkmsg "$d/INBOX/cur/1700001002.ni2.near:2,S" ni2
	mkmsg "$d/Work/cur/1700001003.nw1.near:2,S" nw1
	mkmsg "$d/Work/cur/1700001004.nw2.near:2," nw2
}

# find_msg DIR ID: the file of message ID in mailbox DIR.
find_msg() {
	grep -l "Message-ID: <$2@" "$1"/cur/* "$1"/new/* 2>/dev/null | head -1
}

# write_rc FILE NEAR FAR: FAR is "imap USER" or "maildir DIR".
write_rc() {
	{
		printf 'FSync no\n\n'
		if [ "$3" = imap ]; then
			printf 'IMAPAccount acct\nHost 127.0.0.1\nPort %s\n' \
			    "$IMAP_PORT"
			printf 'User %s\nPass secret\nTLSType None\n' "$4"
			printf 'AuthMechs LOGIN\nTimeout 20\nConnections 1\n\n'
			printf 'IMAPStore far\nAccount acct\n\n'
		else
			printf 'MaildirStore far\nInbox %s\n' "$4"
			printf 'SubFolders Maildir++\n\n'
		fi
		printf 'MaildirStore near\nPath %s/\n' "$2"
		printf 'Inbox %s/INBOX\nSubFolders Verbatim\n\n' "$2"
		printf 'Channel c\nFar :far:\nNear :near:\nPatterns *\n'
		printf 'Create Both\nExpunge Both\nSyncState *\n'
	} >"$1"
}

# list_side far|near DIR: "folder id flags" of every message, sorted.
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
		if (side == "far")
			box = n == 2 ? "INBOX" : substr(box, 2)
		fl = ""
		if (index(part[n], ":2,") > 0)
			fl = substr(part[n], index(part[n], ":2,") + 3)
		id = $2
		sub("^<", "", id)
		sub("@.*", "", id)
		print box, id, fl
	}' | sort
}

# contents_side DIR: "id checksum bytes" of every message, sorted: what
# each copy holds, whichever folder and name it has.
contents_side() {
	find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) \
	    -print0 | sort -z >"$CASE/files"
	paste -d ' ' <(xargs -0 -r awk '
	    FNR == 1 { if (NR > 1) print id; id = "?" }
	    id == "?" && tolower($1) == "message-id:" {
		id = $2; sub("^<", "", id); sub("@.*", "", id) }
	    END { if (NR > 0) print id }' <"$CASE/files") \
	    <(xargs -0 -r cksum <"$CASE/files" | cut -d ' ' -f 1,2) | sort
}

dups() {
	awk '{ print $1, $2 }' | sort | uniq -d | tr '\n' ' '
}

# twinbox RCFILE OUT [ARGS...]: run the binary, bounded; prints its status.
twinbox() {
	local rc=$1 out=$2
	shift 2
	timeout 60 "$BIN" -c "$rc" "$@" c >"$out" 2>&1
	echo $?
}

# ---- cases --------------------------------------------------------------

users=0

# fresh KIND FARTREE NEARTREE: a new case: FAR (the far Maildir), NEAR,
# RC; KIND imap makes a Dovecot user holding a copy of FARTREE.
fresh() {
	CASE=$TMP/case
	rm -rf "$CASE"
	mkdir -p "$CASE"
	NEAR=$CASE/near
	RC=$CASE/rc
	cp -a "$3" "$NEAR"
	if [ "$1" = imap ]; then
		users=$((users + 1))
		[ $users -le $MAXUSERS ] || { fail "more than $MAXUSERS users"; return 1; }
		FAR=$MAIL_DIR/u$users
		[ ! -e "$FAR" ] || { fail "user u$users is not fresh"; return 1; }
		cp -a "$2" "$FAR" && chown -R "$MAIL_OWNER" "$FAR" || return 1
		write_rc "$RC" "$NEAR" imap "u$users"
	else
		FAR=$CASE/far
		cp -a "$2" "$FAR"
		write_rc "$RC" "$NEAR" maildir "$FAR"
	fi
}

# state_is WANT: both sides hold exactly WANT (no report).
state_is() {
	[ "$(list_side far "$FAR")" = "$1" ] &&
	    [ "$(list_side near "$NEAR")" = "$1" ]
}

# check_result LABEL WANT: both sides hold exactly WANT, each once, no
# message file is empty, and a dry run plans nothing.
check_result() {
	local far near st
	far=$(list_side far "$FAR")
	near=$(list_side near "$NEAR")
	expect_eq "$1: no duplicate far" "" "$(dups <<<"$far")"
	expect_eq "$1: no duplicate near" "" "$(dups <<<"$near")"
	expect_eq "$1: no empty message file" "" "$(find "$FAR" "$NEAR" \
	    -type f -empty \( -path '*/cur/*' -o -path '*/new/*' \))"
	expect_eq "$1: far holds the expected messages" "$2" "$far"
	expect_eq "$1: near holds the expected messages" "$2" "$near"
	expect_eq "$1: the copies hold the same bytes" \
	    "$(contents_side "$FAR")" "$(contents_side "$NEAR")"
	st=$(twinbox "$RC" "$CASE/dry.out" --dry-run)
	expect_eq "$1: dry run succeeds" 0 "$st"
	expect_eq "$1: dry run plans nothing" "" \
	    "$(grep -v -e 'dry run: nothing to do$' -e 'logging in as' \
	    "$CASE/dry.out")"
}

# The mutator, run by the binary at the chosen step:
# mutate.sh WAY INBOXDIR WORKDIR MARKER.
cat >"$TMP/mutate.sh" <<'SH'
way=$1 inbox=$2 work=$3
touch "$4"
echo "hook: $way" >&2
find_msg() {
	grep -l "Message-ID: <$2@" "$1"/cur/* "$1"/new/* 2>/dev/null | head -1
}
uid_of() {
	sed -n 's/.*,U=\([0-9]*\).*/\1/p' <<EOF
$1
EOF
}
case $way in
rename)
	f=$(find_msg "$inbox" fi01)
	b=${f##*/}
	mv "$f" "$inbox/cur/${b%%:2,*}:2,FS" ;;
move)
	f=$(find_msg "$work" nw1)
	touch -d @1000 "$f"
	mv "$f" "$inbox/cur/${f##*/}" ;;
delete)
	rm "$(find_msg "$inbox" fi03)" ;;
collide)
	u=$(uid_of "$(find_msg "$work" nw2)")
	f="1000.added.host,U=$u:2,S"
	printf 'Subject: added\nMessage-ID: <added1@mutate.test>\n\nNew.\n' \
	    >"$work/tmp/$f"
	touch -d @1000 "$work/tmp/$f"
	mv "$work/tmp/$f" "$work/cur/$f" ;;
esac
exit 0
SH

# want_after KIND BASE: what a sync of BASE changed by the mutation ends in.
want_after() {
	case $1 in
	rename) sed 's/^INBOX fi01 S$/INBOX fi01 FS/' <<<"$2" ;;
	move) { grep -v '^Work nw1 ' <<<"$2"; echo "INBOX nw1 S"; } | sort ;;
	delete) grep -v '^INBOX fi03 ' <<<"$2" ;;
	collide) { echo "$2"; echo "Work added1 S"; } | sort ;;
	esac
}

# prepare KIND: trees for the second sync in TMP/KIND.far1 and .near1
# (a first sync done, then changes on both sides); sets WANT, the result
# of the uninterrupted second sync.
prepare() {
	local k=$1 st f
	make_far "$TMP/$k.far0"
	make_near "$TMP/$k.near0"
	[ "$k" = imap ] && chown -R "$MAIL_OWNER" "$TMP/$k.far0"
	fresh "$k" "$TMP/$k.far0" "$TMP/$k.near0" || return 1
	st=$(twinbox "$RC" "$CASE/first.out")
	expect_eq "$k: first sync exits 0" 0 "$st"
	cp -a "$FAR" "$TMP/$k.far1"
	cp -a "$NEAR" "$TMP/$k.near1"
	mkmsg "$TMP/$k.far1/new/1700002001.fi07.far" fi07
	f=$(find_msg "$TMP/$k.far1" fi02)
	mv "$f" "${f%:2,*}:2,FS"
	rm "$(find_msg "$TMP/$k.far1/.Work" fw3)"
	[ "$k" = imap ] && chown -R "$MAIL_OWNER" "$TMP/$k.far1"
	mkmsg "$TMP/$k.near1/INBOX/new/1700002002.ni3.near" ni3
	f=$(find_msg "$TMP/$k.near1/Work" nw2)
	mv "$f" "${f%:2,*}:2,R"
	fresh "$k" "$TMP/$k.far1" "$TMP/$k.near1" || return 1
	st=$(twinbox "$RC" "$CASE/second.out")
	expect_eq "$k: second sync exits 0" 0 "$st"
	WANT=$(list_side far "$FAR")
	expect_eq "$k: second sync result" "INBOX fi01 S|INBOX fi02 FS|\
INBOX fi03 |INBOX fi04 |INBOX fi05 F|INBOX fi06 |INBOX fi07 |INBOX ni1 |\
INBOX ni2 S|INBOX ni3 |Work fw1 S|Work fw2 |Work nw1 S|Work nw2 R|" \
	    "$(tr '\n' '|' <<<"$WANT")"
	check_result "$k: second sync" "$WANT"
}

# boxes SIDE ROOT: the INBOX and Work directories of a tree of SIDE.
boxes() {
	if [ "$1" = near ]; then
		echo "$2/INBOX" "$2/Work"
	else
		echo "$2" "$2/.Work"
	fi
}

# The moved file really collides with a UID of INBOX: check_collision
# LABEL INBOXDIR WORKDIR.
check_collision() {
	local u
	u=$(sed -n 's/.*,U=\([0-9]*\).*/\1/p' <<<"$(find_msg "$3" nw1)")
	expect_eq "$1: nw1's UID $u is taken in INBOX" 1 \
	    "$(ls "$2/cur" "$2/new" | grep -c ",U=$u\(:\|$\)")"
}

# in_window OUT: the mailbox whose SELECT the hooked run (OUT, with -Dn)
# had sent and not yet read the answer of when the hook ran, if any: the
# Maildir changed inside the window that the early SELECT leaves.
in_window() {
	awk '!hooked && $3 == ">>" && $5 == "SELECT" { tag = $4; box = $6; done = 0 }
	    !hooked && $3 == "<<" && $4 == tag { done = 1 }
	    /^hook: / { if (tag == "" || done) exit; hooked = 1; next }
	    hooked && $3 == "<<" && $4 == tag { gsub(/"/, "", box); print box; exit }' "$1"
}

# sweep KIND SIDE MUTATION: the mutation of SIDE's Maildir at every step
# of the second sync. With IMAP, the steps must include one inside the
# window of each folder's early SELECT.
sweep() {
	local k=$1 m=$3 n=1 st want label dirs debug= windows=
	[ "$k" = imap ] && debug=-Dn
	want=$(want_after "$m" "$WANT")
	while [ $n -le 200 ]; do
		label="$k $2 $m at step $n"
		fresh "$k" "$TMP/$k.far1" "$TMP/$k.near1" || return
		[ "$2" = near ] && dirs=$(boxes near "$NEAR") ||
		    dirs=$(boxes far "$FAR")
		st=$(TWINBOX_HOOK_AT=$n TWINBOX_HOOK_CMD="sh '$TMP/mutate.sh' \
		    $m ${dirs% *} ${dirs#* } '$CASE/hooked'" \
		    twinbox "$RC" "$CASE/hooked.out" $debug)
		if [ ! -e "$CASE/hooked" ]; then
			# Past the last step: an uninterrupted run.
			expect_eq "$label: a run without the hook exits 0" 0 "$st"
			[ "$st" = 0 ] || cat "$CASE/hooked.out" >&2
			break
		fi
		case $st in
		0|1) pass "$label: exits cleanly" ;;
		*) fail "$label: exits with $st" "$(cat "$CASE/hooked.out")" ;;
		esac
		expect_eq "$label: no sanitizer report" "" \
		    "$(grep -e Sanitizer -e 'runtime error' "$CASE/hooked.out")"
		windows="$windows$(in_window "$CASE/hooked.out") "
		for run in 1 2; do
			st=$(twinbox "$RC" "$CASE/clean$run.out")
			expect_eq "$label: clean run $run exits 0" 0 "$st"
			state_is "$want" && break
		done
		check_result "$label" "$want"
		n=$((n + 1))
	done
	echo "ok: $k $2 $m: at each of $((n - 1)) steps"
	[ $n -gt 10 ] || fail "$k $2 $m: only $((n - 1)) steps"
	[ "$k" = imap ] || return 0
	expect_eq "$k $2 $m: the steps include the window of each SELECT" \
	    "INBOX Work" "$(tr ' ' '\n' <<<"$windows" | sort -u | xargs)"
}

for t in ${MUTATE_TARGETS:-maildir:near maildir:far imap:near}; do
	k=${t%:*}
	side=${t#*:}
	if [ ! -d "$TMP/$k.far1" ]; then
		prepare "$k" || exit 1
	fi
	check_collision "$k $side" $(boxes "$side" "$TMP/$k.$side"1)
	for m in ${MUTATE_WAYS:-rename move delete collide}; do
		sweep "$k" "$side" "$m"
	done
done

echo "maildir_mutate: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
