#!/bin/bash
# Settled marks end to end: an IMAP (far) <-> Maildir (near) channel
# against a private Dovecot, three folders of about fifty messages. Which
# folders a run scans in full, and which it asks only for changed flags,
# is read from the protocol log (-D); the marks from the state files.
#  1. after the first sync every folder holds a "settled far" mark equal to
#     the server's UIDNEXT and HIGHESTMODSEQ; a run without changes sends
#     no FETCH at all;
#  2. a flag set on the server by another client: one CHANGEDSINCE fetch
#     in that folder, no full scan, the flag reaches the Maildir file name;
#  3. an expunge on the server by another client: a full scan of that
#     folder removes the near copy and earns the mark again, so the next
#     run scans nothing;
#  4. a message appended on the server: a full scan, and it is copied;
#  5. a flag set in the Maildir is pushed to the server, which moves its
#     HIGHESTMODSEQ; the next run asks only for flags changed since and
#     does nothing else, and the one after that sends no FETCH;
#  6. a second Dovecot that does not advertise CONDSTORE: no CONDSTORE
#     SELECT, no CHANGEDSINCE and no marks, a full scan of every folder at
#     every run, even after another session has made Dovecot report
#     HIGHESTMODSEQ, and the same changes still end equal on both sides.
#  7. a third Dovecot that offers QRESYNC (1-5 run on one that offers
#     CONDSTORE only, and they never see QRESYNC): ENABLE QRESYNC, and
#     every SELECT after the first sync carries the mark; an expunge by
#     another client costs no full scan (VANISHED (EARLIER)) and removes
#     the near copy; a new message costs a FETCH of the UIDs above the
#     mark only, and its body; an expunge, a new message and a flag at
#     once too; never a warning that the answer does not add up; a
#     folder's SELECT, FETCH of new messages and UID SEARCH leave in one
#     write (strace, which the script needs). The UID SEARCH goes with a
#     folder whose listing shows a message come or gone, and not with
#     one where only flags changed; when messages come and go after the
#     listing (another client, at the first step of a run with
#     Connections 1), the folders opened after that send it once their
#     SELECT is answered, and the run ends as the others do.
# After every run both sides hold the same messages, byte for byte, with
# the same flags. The other client is a plain IMAP session over
# /dev/tcp. The servers are stopped and the directory removed however the
# test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the servers running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

# Dovecot's default list without CONDSTORE and QRESYNC (which implies it).
NO_CONDSTORE_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND \
URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED \
I18NLEVEL=1 ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS BINARY \
MOVE SPECIAL-USE LITERAL+"

# The same with CONDSTORE: the path for servers without QRESYNC.
NO_QRESYNC_CAPS="$NO_CONDSTORE_CAPS CONDSTORE"

# The three folders: canonical name, name on the wire, directory on the
# server (relative to the user's Maildir), directory in the near Maildir.
BOXES="INBOX Entwürfe Archive"
wire_name() {
	case $1 in
	Entwürfe) echo "Entw&APw-rfe" ;;
	*) echo "$1" ;;
	esac
}
server_dir() {
	case $1 in
	INBOX) echo "$MAIL_DIR/alice" ;;
	*) echo "$MAIL_DIR/alice/.$(wire_name "$1")" ;;
	esac
}

# start_populated DIR: a Dovecot with user alice and 150 messages in three
# folders; loads its server.env.
start_populated() {
	start_dovecot "$1" alice
	if ! bash "$SERVER" populate "$1" alice 150 3 >"$TMP/populate.out" \
	    2>&1; then
		echo "FAIL: populate:" >&2
		cat "$TMP/populate.out" >&2
		exit 1
	fi
}

# write_rc FILE STATEDIR NEARDIR
write_rc() {
	cat >"$1" <<RC
SyncState $2/

IMAPAccount alice
Host 127.0.0.1
Port $IMAP_PORT
User alice
Pass secret
TLSType None
AuthMechs LOGIN
Timeout 20

IMAPStore far
Account alice

MaildirStore near
Path $3/
Inbox $3/INBOX
SubFolders Verbatim

Channel c
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
RC
	mkdir -p "$2" "$3"
}

# ---- the other client ----------------------------------------------------

# imap LINE...: one plain IMAP session as alice: LOGIN, the lines (tags
# included), LOGOUT; prints the answers without CRs.
imap() {
	timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
		printf "%s\r\n" "$@" >&3; cat <&3' "$IMAP_PORT" \
	    "a LOGIN alice secret" "$@" "z LOGOUT" | tr -d '\r'
}

# server DESCRIPTION LINE...: an imap session whose every command must
# succeed. A search tagged "c" must find exactly one message.
server() {
	local what=$1 out
	shift
	out=$(imap "$@")
	if grep -qE '^[a-z][0-9]* (NO|BAD)' <<<"$out" ||
	    ! grep -q '^z OK' <<<"$out"; then
		fail "other client: $what" "$out"
		return 1
	fi
	if grep -q '^c UID SEARCH' <<<"$(printf '%s\n' "$@")" &&
	    ! grep -qx '\* ESEARCH (TAG "c") UID COUNT 1' <<<"$out"; then
		fail "other client: $what: not exactly one message" "$out"
		return 1
	fi
	return 0
}

# set_flag_by_id BOX MESSAGEID FLAG [CONDSTORE]: the other client sets
# FLAG on the message with that Message-ID (found by a search saved as $,
# RFC 5182), selecting with CONDSTORE when asked.
set_flag_by_id() {
	server "flag $3 in $1" "b SELECT \"$(wire_name "$1")\"${4:+ (CONDSTORE)}" \
	    "c UID SEARCH RETURN (SAVE COUNT) HEADER Message-ID \"$2\"" \
	    "d UID STORE \$ +FLAGS.SILENT ($3)"
}

# expunge_by_id BOX MESSAGEID
expunge_by_id() {
	server "expunge in $1" "b SELECT \"$(wire_name "$1")\"" \
	    "c UID SEARCH RETURN (SAVE COUNT) HEADER Message-ID \"$2\"" \
	    "d UID STORE \$ +FLAGS.SILENT (\\Deleted)" "e UID EXPUNGE \$"
}

# append_msg BOX ID: a small message with Message-ID <ID>, sent as a
# non-synchronizing literal (its length counted in bytes).
append_msg() {
	local LC_ALL=C lines=("From: Other <other@condstore.test>" "Subject: $2" \
	    "Message-ID: <$2>" "" "Appended by another client.") n=0 l
	for l in "${lines[@]}"; do
		n=$((n + ${#l} + 2))
	done
	server "append to $1" \
	    "c APPEND \"$(wire_name "$1")\" {$n+}" "${lines[@]}" ""
}

# server_status BOX: "UIDNEXT HIGHESTMODSEQ" as STATUS reports them.
server_status() {
	imap "c STATUS \"$(wire_name "$1")\" (UIDNEXT HIGHESTMODSEQ)" |
	    sed -n 's/^\* STATUS .*(UIDNEXT \([0-9]*\) HIGHESTMODSEQ \([0-9]*\)).*/\1 \2/p'
}

# ---- what a run did --------------------------------------------------------

# run NAME [RC]: a sync of channel c with the protocol logged to NAME.out.
run() {
	if timeout 60 "$BIN" -D -c "${2:-$TMP/sync.rc}" c \
	    >"$TMP/$1.out" 2>&1; then
		pass "run $1"
	else
		fail "run $1 (exit $?)" "$(tail -20 "$TMP/$1.out")"
	fi
}

# in_boxes NAME REGEX: the folders (wire names, sorted, space separated)
# in which run NAME sent a command matching REGEX.
in_boxes() {
	# The folder selected last on the same connection (its label in
	# the trace): with Connections, the lines of several connections
	# interleave.
	RE=$2 awk '
	{ conn = $1 == "debug:" ? $2 : "" }
	/ >> [^ ]+ SELECT "/ {
		b = $0
		sub(/.* SELECT "/, "", b)
		sub(/".*/, "", b)
		box[conn] = b
	}
	$0 ~ ENVIRON["RE"] { print box[conn] }' "$TMP/$1.out" | sort |
	    tr '\n' ' ' | sed 's/ $//'
}

# Folders scanned in full: the flags of every message, with or without
# sizes and dates, and no CHANGEDSINCE.
full_scans() {
	in_boxes "$1" \
	    ' >> [^ ]+ UID FETCH 1:\* \(UID FLAGS( RFC822\.SIZE INTERNALDATE)?\)$'
}

changedsince() {
	in_boxes "$1" ' >> [^ ]+ UID FETCH .*CHANGEDSINCE'
}

# The commands of run NAME beyond login, listing and SELECT, one a line.
commands() {
	sed -n 's/^debug: [^ ]* >> [A-Za-z0-9]* //p' "$TMP/$1.out" |
	    grep -vE '^(LOGIN|AUTHENTICATE|NAMESPACE|LIST|SELECT|LOGOUT|CAPABILITY)( |$)'
}

# mark BOX [STATEDIR]: "UIDNEXT MODSEQ" of the settled far mark, empty if
# none.
mark() {
	local f="${2:-$TMP/state}/:far:${1}_:near:$1.twinboxstate"
	[ -f "$f" ] || return 0
	awk '$1 == "settled" && $2 == "far" { print $3, $4 }' "$f"
}

# ---- both sides -------------------------------------------------------------

# listing DIR: "sha256 flags" of every message of a Maildir folder, sorted.
listing() {
	find "$1/cur" "$1/new" -type f -exec sha256sum {} + 2>/dev/null |
	    awk '{
		fl = ""
		if (index($2, ":2,") > 0)
			fl = substr($2, index($2, ":2,") + 3)
		gsub("[^A-Z]", "", fl)
		print $1, fl
	}' | sort
}

# converged LABEL NEARDIR: each folder holds the same messages with the
# same flags on the server and in the Maildir.
converged() {
	local b far near
	for b in $BOXES; do
		far=$(listing "$(server_dir "$b")")
		near=$(listing "$2/$b")
		expect_eq "$1: $b equal on both sides" "$far" "$near"
		[ -n "$far" ] || fail "$1: $b is empty"
	done
}

# near_file NEARDIR BOX ID: the Maildir file holding Message-ID ID.
near_file() {
	grep -rlF "Message-ID: $3" "$1/$2/cur" "$1/$2/new" 2>/dev/null
}

near_flags() {
	local f
	f=$(near_file "$@")
	case $f in
	*:2,*) echo "${f##*:2,}" ;;
	*) echo "" ;;
	esac
}

# msgid FILE: the Message-ID of a message file.
msgid() {
	grep -m1 -i '^Message-ID:' "$1" | sed 's/^[^:]*: *//'
}

# unflagged_id NEARDIR BOX: the Message-ID of the first message without F.
unflagged_id() {
	local f
	for f in "$1/$2"/cur/*; do
		case $f in *:2,*F*) continue ;; esac
		msgid "$f"
		return 0
	done
}

# add_near_flag FILE: adds F to the Maildir flags of FILE (in cur/), as a
# mail reader does, keeping the letters in order.
add_near_flag() {
	mv "$1" "${1%%:2,*}:2,$(printf '%sF' "${1##*:2,}" | fold -w1 | sort |
	    tr -d '\n')"
}

server_has() {
	grep -rlF "Message-ID: $2" "$(server_dir "$1")/cur" \
	    "$(server_dir "$1")/new" 2>/dev/null | wc -l
}

# ==== a Dovecot with CONDSTORE, without QRESYNC ============================

TEST_SERVER_CAPS=$NO_QRESYNC_CAPS start_populated "$TMP/srv"
N=$TMP/near
write_rc "$TMP/sync.rc" "$TMP/state" "$N"
expect_eq "the server advertises CONDSTORE" 1 \
    "$(imap | grep -c '^a OK \[CAPABILITY .* CONDSTORE')"
expect_eq "the server does not advertise QRESYNC" 0 \
    "$(imap | grep -c '^a OK \[CAPABILITY .*QRESYNC')"

# ---- 1. first sync and a run without changes ----------------------------

run first
converged "first sync" "$N"
expect_eq "first sync: every SELECT asks for CONDSTORE" 3 \
    "$(grep -cE ' >> [^ ]+ SELECT "[^"]*" \(CONDSTORE\)$' "$TMP/first.out")"
for b in $BOXES; do
	expect_eq "first sync: $b has a settled far mark at the server's status" \
	    "$(server_status "$b")" "$(mark "$b")"
done

run noop
expect_eq "no-op run: no full scan" "" "$(full_scans noop)"
expect_eq "no-op run: no CHANGEDSINCE (HIGHESTMODSEQ did not move)" "" \
    "$(changedsince noop)"
expect_eq "no-op run: no command beyond login, LIST and SELECT" "" \
    "$(commands noop)"
expect_eq "no-op run: every folder skips its scan" 3 \
    "$(grep -c 'far side unchanged but for flags since HIGHESTMODSEQ' \
    "$TMP/noop.out")"
expect_eq "no-op run: the marks stay" 3 \
    "$(for b in $BOXES; do mark "$b"; done | grep -c .)"
converged "no-op run" "$N"

# ---- 2. a flag set by another client --------------------------------------

id=$(unflagged_id "$N" INBOX)
set_flag_by_id INBOX "$id" '\Flagged'
run flag
expect_eq "server flag: CHANGEDSINCE in INBOX only" INBOX "$(changedsince flag)"
expect_eq "server flag: no full scan" "" "$(full_scans flag)"
expect_eq "server flag: F in the Maildir file name" yes \
    "$(near_flags "$N" INBOX "$id" | grep -q F && echo yes)"
expect_eq "server flag: the INBOX mark follows the server" \
    "$(server_status INBOX)" "$(mark INBOX)"
converged "server flag" "$N"

# ---- 3. an expunge by another client --------------------------------------

files=("$N"/Archive/cur/*)
id=$(msgid "${files[9]}")
before=$(mark Archive)
expunge_by_id Archive "$id"
expect_eq "expunge: gone from the server" 0 "$(server_has Archive "$id")"
run expunge
expect_eq "expunge: full scan of Archive only" Archive "$(full_scans expunge)"
expect_eq "expunge: no CHANGEDSINCE" "" "$(changedsince expunge)"
expect_eq "expunge: the near copy is removed" "" "$(near_file "$N" Archive "$id")"
converged "expunge" "$N"
expect_eq "expunge: the Archive mark is earned again at the new status" \
    "$(server_status Archive)" "$(mark Archive)"
[ "$(mark Archive)" != "$before" ] ||
	fail "expunge: the Archive mark did not change ($before)"
run after-expunge
expect_eq "after the expunge: no full scan" "" "$(full_scans after-expunge)"
expect_eq "after the expunge: no command beyond login, LIST and SELECT" "" \
    "$(commands after-expunge)"

# ---- 4. a new message on the server ---------------------------------------

append_msg Entwürfe new.1@condstore.test
run new
expect_eq "new message: full scan of Entwürfe only" "Entw&APw-rfe" \
    "$(full_scans new)"
expect_eq "new message: copied to the Maildir" 1 \
    "$(near_file "$N" Entwürfe '<new.1@condstore.test>' | grep -c .)"
expect_eq "new message: the Entwürfe mark follows the server" \
    "$(server_status Entwürfe)" "$(mark Entwürfe)"
converged "new message" "$N"

# ---- 5. a flag set in the Maildir, pushed -----------------------------------

id=$(unflagged_id "$N" Archive)
f=$(near_file "$N" Archive "$id")
add_near_flag "$f"
before=$(server_status Archive)
run push
expect_eq "push: no full scan" "" "$(full_scans push)"
expect_eq "push: nothing but the flag sent" 'UID STORE N +FLAGS.SILENT (\Flagged)' \
    "$(commands push | sed 's/^UID STORE [0-9]* /UID STORE N /')"
after=$(server_status Archive)
expect_eq "push: HIGHESTMODSEQ moved on the server" yes \
    "$([ "${after#* }" -gt "${before#* }" ] 2>/dev/null && echo yes)"
converged "push" "$N"
ls -R "$N" >"$TMP/near-before"
run after-push
expect_eq "after the push: CHANGEDSINCE in Archive only" Archive \
    "$(changedsince after-push)"
expect_eq "after the push: no full scan" "" "$(full_scans after-push)"
expect_eq "after the push: nothing but the CHANGEDSINCE fetch" \
    'UID FETCH 1:* (UID FLAGS) (CHANGEDSINCE M)' \
    "$(commands after-push | sed 's/(CHANGEDSINCE [0-9]*)$/(CHANGEDSINCE M)/')"
expect_eq "after the push: the Maildir is untouched" "" \
    "$(ls -R "$N" | diff "$TMP/near-before" -)"
expect_eq "after the push: the Archive mark follows the server" \
    "$after" "$(mark Archive)"
run quiet
expect_eq "quiet run: no command beyond login, LIST and SELECT" "" \
    "$(commands quiet)"
converged "quiet run" "$N"
expect_eq "CONDSTORE only: no QRESYNC in any run" 0 \
    "$(cat "$TMP"/*.out | grep -c QRESYNC)"

# ==== 6. a Dovecot without CONDSTORE =======================================

TEST_SERVER_CAPS=$NO_CONDSTORE_CAPS start_populated "$TMP/srv2"
N=$TMP/near2
write_rc "$TMP/sync2.rc" "$TMP/state2" "$N"
expect_eq "the second server does not advertise CONDSTORE" 1 \
    "$(imap | grep '^a OK \[CAPABILITY ' | grep -vc CONDSTORE)"
ALL="Archive Entw&APw-rfe INBOX"

# nc_run NAME: a run that must scan every folder in full and use no
# CONDSTORE at all.
nc_run() {
	run "$1" "$TMP/sync2.rc"
	expect_eq "$1: full scan of every folder" "$ALL" "$(full_scans "$1")"
	expect_eq "$1: no CHANGEDSINCE" "" "$(changedsince "$1")"
	expect_eq "$1: no CONDSTORE anywhere" 0 \
	    "$(grep -c CONDSTORE "$TMP/$1.out")"
	expect_eq "$1: no settled mark" "" \
	    "$(for b in $BOXES; do mark "$b" "$TMP/state2"; done)"
}

run nc-first "$TMP/sync2.rc"
expect_eq "nc-first: three SELECTs without CONDSTORE" 3 \
    "$(grep -cE ' >> [^ ]+ SELECT "[^"]*"$' "$TMP/nc-first.out")"
expect_eq "nc-first: no CONDSTORE anywhere" 0 \
    "$(grep -c CONDSTORE "$TMP/nc-first.out")"
converged "nc-first" "$N"
nc_run nc-noop
converged "nc-noop" "$N"

# The same kinds of changes. One session selects INBOX with CONDSTORE,
# which Dovecot honours unadvertised; from then on it reports
# HIGHESTMODSEQ for INBOX on every SELECT, as it does after replication:
# twinbox must still not rely on it.
set_flag_by_id INBOX "$(unflagged_id "$N" INBOX)" '\Answered' condstore
append_msg Entwürfe new.2@condstore.test
id=$(unflagged_id "$N" Archive)
f=$(near_file "$N" Archive "$id")
files=("$N"/Archive/cur/*)
victim=${files[${#files[@]} - 1]}
[ "$victim" != "$f" ] || fail "nc: the expunged message is the flagged one"
expunge_by_id Archive "$(msgid "$victim")"
add_near_flag "$f"
nc_run nc-changes
expect_eq "nc-changes: new message copied" 1 \
    "$(near_file "$N" Entwürfe '<new.2@condstore.test>' | grep -c .)"
converged "nc-changes" "$N"
nc_run nc-again
set_flag_by_id INBOX "$(unflagged_id "$N" INBOX)" '\Flagged'
nc_run nc-flag
converged "nc-flag" "$N"

# ==== 7. a Dovecot with QRESYNC ===========================================

start_populated "$TMP/srv3"
N=$TMP/near3
write_rc "$TMP/sync3.rc" "$TMP/state3" "$N"
expect_eq "the third server advertises QRESYNC" 1 \
    "$(imap | grep -c '^a OK \[CAPABILITY .* QRESYNC')"

# qr_run NAME: a run on the third server that scans no folder in full,
# SELECTs every folder with its mark and never finds the answer wrong.
qr_run() {
	run "$1" "$TMP/sync3.rc"
	expect_eq "$1: no full scan" "" "$(full_scans "$1")"
	# A folder whose both sides are as the last run left them is not
	# opened at all (its near side settled, which takes 3 s: it depends
	# on how long the runs take); every other one is SELECTed once, with
	# its mark.
	local selects qresync settled
	selects=$(grep -cE ' >> [^ ]+ SELECT ' "$TMP/$1.out")
	qresync=$(grep -cE ' >> [^ ]+ SELECT "[^"]*" \(QRESYNC \([0-9]+ [0-9]+( [0-9:,]+)?\)\)$' \
	    "$TMP/$1.out")
	settled=$(grep -c ': both sides as the last run left them (.*): not opened$' \
	    "$TMP/$1.out")
	expect_eq "$1: every SELECT carries QRESYNC" "$selects" "$qresync"
	expect_eq "$1: each folder SELECTed once or, settled, not opened" 3 \
	    "$((qresync + settled))"
	expect_eq "$1: no answer that does not add up" 0 \
	    "$(grep -c 'does not add up' "$TMP/$1.out")"
	# Once per connection (Connections may open more than one; one that
	# no folder is left for is abandoned, maybe before its login's
	# answer: count the logins answered).
	expect_eq "$1: ENABLE QRESYNC once a login" \
	    "$(grep -cE ' << [^ ]+ OK .*Logged in' "$TMP/$1.out")" \
	    "$(commands "$1" | grep -c '^ENABLE QRESYNC$')"
	converged "$1" "$N"
	for b in $BOXES; do
		expect_eq "$1: $b's mark follows the server" \
		    "$(server_status "$b")" "$(mark "$b" "$TMP/state3")"
	done
}

SEARCH_ALL=' >> [^ ]+ UID SEARCH RETURN \(ALL\) ALL$'

# fetches NAME: the FETCH commands of run NAME but the pipelined FETCH of
# new messages, with UIDs and MODSEQs made N and M.
fetches() {
	commands "$1" | grep '^UID FETCH' |
	    grep -vE '^UID FETCH [0-9]+:\* \(UID FLAGS RFC822\.SIZE INTERNALDATE\) \(CHANGEDSINCE [0-9]+\)$' |
	    sed -E 's/[0-9]+/N/g'
}

run qr-first "$TMP/sync3.rc"
converged "qr-first" "$N"
qr_run qr-noop
expect_eq "qr-noop: no FETCH but those of new messages, which find none" "" \
    "$(fetches qr-noop)"
expect_eq "qr-noop: nothing fetched" 0 \
    "$(grep -c '^debug: [^ ]* << \* [0-9]* FETCH' "$TMP/qr-noop.out")"

files=("$N"/Archive/cur/*)
id=$(msgid "${files[4]}")
expunge_by_id Archive "$id"
qr_run qr-expunge
expect_eq "qr-expunge: one VANISHED, answering Archive's SELECT" Archive \
    "$(in_boxes qr-expunge '< \* VANISHED')"
expect_eq "qr-expunge: the near copy is removed" "" \
    "$(near_file "$N" Archive "$id")"
expect_eq "qr-expunge: no FETCH beyond those of new messages" "" \
    "$(fetches qr-expunge)"
expect_eq "qr-expunge: the UID SEARCH goes with Archive's SELECT" Archive \
    "$(in_boxes qr-expunge "$SEARCH_ALL")"

mark_before=$(mark Entwürfe "$TMP/state3")
append_msg Entwürfe new.3@condstore.test
qr_run qr-new
expect_eq "qr-new: copied to the Maildir" 1 \
    "$(near_file "$N" Entwürfe '<new.3@condstore.test>' | grep -c .)"
expect_eq "qr-new: Entwürfe's new messages fetched from the mark's UIDNEXT" 1 \
    "$(grep -cE " >> [^ ]+ UID FETCH ${mark_before% *}:\* \(UID FLAGS RFC822\.SIZE INTERNALDATE\) \(CHANGEDSINCE ${mark_before#* }\)$" \
    "$TMP/qr-new.out")"
expect_eq "qr-new: the only other FETCH is the new message's body" \
    "UID FETCH N (UID FLAGS INTERNALDATE BODY.PEEK[])" "$(fetches qr-new)"
expect_eq "qr-new: the UID SEARCH goes with Entwürfe's SELECT" \
    "Entw&APw-rfe" "$(in_boxes qr-new "$SEARCH_ALL")"

files=("$N"/INBOX/cur/*)
victim=$(msgid "${files[7]}")
id=$(unflagged_id "$N" INBOX)
[ "$id" != "$victim" ] || fail "qr-mixed: the expunged message is the flagged one"
expunge_by_id INBOX "$victim"
append_msg INBOX new.4@condstore.test
set_flag_by_id INBOX "$id" '\Flagged' condstore
qr_run qr-mixed
expect_eq "qr-mixed: the expunged message's near copy is removed" "" \
    "$(near_file "$N" INBOX "$victim")"
expect_eq "qr-mixed: the new message is copied" 1 \
    "$(near_file "$N" INBOX '<new.4@condstore.test>' | grep -c .)"
expect_eq "qr-mixed: F in the Maildir file name" yes \
    "$(near_flags "$N" INBOX "$id" | grep -q F && echo yes)"
qr_run qr-quiet
expect_eq "qr-quiet: no FETCH but those of new messages" "" \
    "$(fetches qr-quiet)"

# Only flags changed, as the listing shows: no UID SEARCH, the count
# checks the answer. A flag in every folder, so that each takes a worker
# (Connections 3), and the first step (inside its folder's open) holds
# that connection until another connection has SELECTed a folder, at most
# 20 s: the listing's word reaches the connections that did not list.
# (Waiting for a second login only would leave the first connection free
# to take the other folders before that one takes a job.)
for b in $BOXES; do
	set_flag_by_id "$b" "$(unflagged_id "$N" "$b")" '\Flagged' condstore
done
cat >"$TMP/wait-select" <<'SH'
i=0
while [ "$(sed -n 's/^debug: \([^ ]*\) >> [^ ]* SELECT .*/\1/p' "$1" |
    sort -u | wc -l)" -lt 2 ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
SH
TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="sh '$TMP/wait-select' '$TMP/qr-flags.out'" \
	qr_run qr-flags
expect_eq "qr-flags: no UID SEARCH" "" "$(in_boxes qr-flags "$SEARCH_ALL")"
expect_eq "qr-flags: a further connection synced a folder" 1 \
    "$(grep -cE '^debug: [^ ]+#[2-9] >> [^ ]+ SELECT ' "$TMP/qr-flags.out" |
    awk '{ print ($1 >= 1) }')"

# Messages come and go after the listing: a flag in each folder (so that
# each is opened, and its listing shows flags only), then, at the run's
# first step (inside the first folder's open), another client appends a
# message to every folder and expunges its first. With one connection the
# two folders opened later meet both in their SELECT's answer, and send
# the UID SEARCH after it.
for b in $BOXES; do
	set_flag_by_id "$b" "$(unflagged_id "$N" "$b")" '\Flagged' condstore
done
cat >"$TMP/late.sh" <<'SH'
# late.sh PORT BOX...: in each BOX (wire name), a new message and the
# first one expunged, by a plain IMAP session.
port=$1
shift
for b in "$@"; do
	body="Message-ID: <late.$b@condstore.test>\r\n\r\nLate.\r\n"
	n=$(printf "$body" | wc -c)
	printf 'a LOGIN alice secret\r\nb APPEND "%s" {%d+}\r\n'"$body"'\r\nc SELECT "%s"\r\nd STORE 1 +FLAGS.SILENT (\\Deleted)\r\ne EXPUNGE\r\nz LOGOUT\r\n' \
	    "$b" "$n" "$b" |
	    timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; cat >&3; cat <&3' \
	    "$port" >>"${0%.sh}.out"
done
SH
sed 's/^Timeout 20$/&\nConnections 1/' "$TMP/sync3.rc" >"$TMP/sync3-one.rc"
TWINBOX_HOOK_AT=1 TWINBOX_HOOK_CMD="bash '$TMP/late.sh' $IMAP_PORT INBOX \
Entw\&APw-rfe Archive" run qr-late "$TMP/sync3-one.rc"
expect_eq "qr-late: the other client's sessions succeeded" 12 \
    "$(grep -cE '^[b-e] OK' "$TMP/late.out")"
expect_eq "qr-late: no answer that does not add up" 0 \
    "$(grep -c 'does not add up' "$TMP/qr-late.out")"
# (The first folder's SELECT was answered before the hook, almost
# always: it then meets the changes at the next run.)
expect_eq "qr-late: at least two folders send the UID SEARCH after their SELECT" 1 \
    "$(awk '/ >> [^ ]+ SELECT "/ { sel = $4; answered = 0 }
	$3 == "<<" && $4 == sel { answered = 1 }
	/ >> [^ ]+ UID SEARCH RETURN \(ALL\) ALL$/ && answered { n++ }
	END { print n >= 2 }' "$TMP/qr-late.out")"
qr_run qr-late-again
expect_eq "qr-late: every late message reached the Maildir" 3 \
    "$(grep -rl '^Message-ID: <late\.' "$N" | wc -l)"

# A folder's QRESYNC open leaves in one write (imap_client_cork()): its
# SELECT, the FETCH of new messages and the UID SEARCH reach the server
# together, which is then woken once. strace shows the writes.
if command -v strace >/dev/null; then
	id=$(unflagged_id "$N" INBOX)
	set_flag_by_id INBOX "$id" '\Flagged' condstore
	# A new message too: the listing shows it, so the burst holds the
	# UID SEARCH.
	append_msg INBOX new.5@condstore.test
	# LeakSanitizer cannot work under ptrace (an ASan build).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout 60 strace -f -s 4096 \
	    -e trace=sendto,write,recvfrom,read,openat \
	    -o "$TMP/qr-burst.trace" "$BIN" -c "$TMP/sync3.rc" c \
	    >"$TMP/qr-burst.out" 2>&1
	expect_eq "qr-burst: exit status" 0 "$?"
	expect_eq "qr-burst: INBOX's SELECT, FETCH and SEARCH in one write" 1 \
	    "$(grep -F 'SELECT \"INBOX\" (QRESYNC' "$TMP/qr-burst.trace" |
	    grep -F 'UID FETCH' | grep -c 'UID SEARCH')"
	# The near folder is listed while the server answers the SELECT
	# (open_begin(), sync/mailbox.c): after the write, the thread
	# opens INBOX/cur before it reads the connection again.
	expect_eq "qr-burst: near INBOX listed before the SELECT's answer" \
	    listing "$(awk -v cur="$N/INBOX/cur\"" '
		!sel && index($0, "SELECT \\\"INBOX\\\" (QRESYNC") {
			sel = 1; pid = $1; fd = $2; sub(/^[a-z]+\(/, "", fd)
			sub(/,$/, "", fd); next
		}
		sel && $1 == pid && /openat\(/ && index($0, cur) {
			print "listing"; exit
		}
		sel && $1 == pid && ($2 ~ "^(recvfrom|read)\\(" fd ",") {
			print "answer first"; exit
		}' "$TMP/qr-burst.trace")"
	converged qr-burst "$N"
else
	fail "strace is missing (it shows how the commands are written)"
fi

echo "imap_condstore.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
