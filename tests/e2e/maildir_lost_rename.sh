#!/bin/bash
# A Maildir scan gives a new file its UID by renaming it to a ",U=" name,
# and the sync state then records that UID as paired. If a crash kept the
# state but lost the rename, the next scan would give the file another
# UID: the recorded UID looks deleted, the file looks new. This script
# shows on real files what that costs, and that the store keeps it from
# happening:
#  - the order, seen by strace in the binary's system calls: the scan's
#    rename of a new near file is followed by an fsync() of its directory
#    before the journal is opened for writing (a run with a copy), and
#    before the state file is written (a run without copies, a pair found
#    by content at first contact); a clash's settling rename likewise
#    before the journal; a flag rename taking T (\Deleted) away before
#    the state file, whether a Maildir far side or another IMAP client
#    took the deletion back;
#  - the consequence the fsync prevents, simulated by renaming the file
#    back after a run and keeping the state, on a Maildir <-> Maildir
#    channel: nothing is lost (the message stays near, once, and far
#    keeps a copy without \Deleted), but with Expunge None far holds the
#    message twice, the copy of the lost UID marked \Deleted (the
#    duplicate); with Expunge Both far holds it once, a new copy, and
#    near once;
#  - the same against the private Dovecot as far side: with Expunge None
#    the server holds the message twice, its first copy \Deleted; with
#    Expunge Both once.
# strace is a prerequisite: without it the script fails.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory (and the server) for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

if ! command -v strace >/dev/null; then
	echo "FAIL: strace is missing (it shows the order of the system calls)" >&2
	exit 1
fi

# mkmsg FILE ID: a small message with Message-ID <ID@lost.test>.
mkmsg() {
	printf 'From: s@lost.test\nSubject: %s\nMessage-ID: <%s@lost.test>\n\nBody of %s.\n' \
		"$2" "$2" "$2" >"$1"
}

# ids DIR: the Message-IDs of the folder's messages, one a line, sorted.
ids() {
	find "$1/cur" "$1/new" -type f -exec cat {} + 2>/dev/null |
		tr -d '\r' | sed -n 's/^Message-ID: //p' | sort
}

# deleted DIR: the Message-IDs of the folder's messages flagged T
# (\Deleted), sorted.
deleted() {
	find "$1/cur" "$1/new" -type f -regex '.*:2,[A-Za-z]*T[A-Za-z]*' \
		-exec cat {} + 2>/dev/null |
		tr -d '\r' | sed -n 's/^Message-ID: //p' | sort
}

# rc_pair FAR NEAR STATE EXPUNGE: a Maildir <-> Maildir channel c.
rc_pair() {
	cat <<RC
SyncState $3/

MaildirStore far
Path $1/
Inbox $1/INBOX

MaildirStore near
Path $2/
Inbox $2/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
Expunge $4
RC
}

# traced NAME RC: one sync of channel c under strace; status in $status,
# the trace in TMP/NAME.trace.
traced() {
	# LeakSanitizer cannot work under ptrace: an ASan build's leak check
	# is left to the other runs.
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
	timeout 120 strace -f -y -o "$TMP/$1.trace" \
		-e trace=rename,renameat,renameat2,fsync,fdatasync,syncfs,openat \
		"$BIN" -c "$2" c >"$TMP/$1.out" 2>"$TMP/$1.err"
	status=$?
}

# run NAME RC: one sync of channel c; status in $status.
run() {
	timeout 120 "$BIN" -c "$2" c >"$TMP/$1.out" 2>"$TMP/$1.err"
	status=$?
}

# line TRACE FIXED-STRING: the number of the first line holding it, or
# 999999 when none does.
line() {
	local n
	n=$(grep -n -F -m 1 -- "$2" "$1" | cut -d: -f1)
	echo "${n:-999999}"
}

# in_order DESCRIPTION TRACE A B C: A's line before B's before C's.
in_order() {
	local a b c
	a=$(line "$2" "$3")
	b=$(line "$2" "$4")
	c=$(line "$2" "$5")
	if [ "$a" -lt "$b" ] && [ "$b" -lt "$c" ] && [ "$c" -lt 999999 ]; then
		pass "$1"
	else
		fail "$1" "lines $a, $b, $c of $2 for:
$3
$4
$5"
	fi
}

# ---- the order of the system calls ----------------------------------------

F=$TMP/far
N=$TMP/near
mkbox "$F/INBOX"
mkbox "$N/INBOX"
mkdir -p "$TMP/state"
mkmsg "$N/INBOX/new/2001.n1" n1
rc_pair "$F" "$N" "$TMP/state" None >"$TMP/none.rc"
STATE=$TMP/state/:far:INBOX_:near:INBOX.twinboxstate

traced copy "$TMP/none.rc"
expect_eq "a run with a copy: exit status" 0 "$status"
expect_eq "a run with a copy: near holds the file under its UID" \
	"new/2001.n1,U=1" "$(cd "$N/INBOX" && find cur new -type f)"
# fsync(FD<DIR>): strace -y names the descriptor's path; the number is
# whatever the run had free, so the match is on the path.
in_order "a run with a copy: the scan's rename, the fsync of new/, then the journal" \
	"$TMP/copy.trace" \
	"rename(\"$N/INBOX/new/2001.n1\", \"$N/INBOX/new/2001.n1,U=1\") = 0" \
	"<$N/INBOX/new>) = 0" \
	"$STATE.journal\", O_WRONLY"

# A clash: a file moved in from another folder keeping its name, so two
# files claim UID 1. The one that is not the far copy's message gets the
# new UID, and that rename is on disk before the journal.
mkmsg "$N/INBOX/cur/2002.moved,U=1:2,S" moved
traced clash "$TMP/none.rc"
expect_eq "a clash: exit status" 0 "$status"
expect_eq "a clash: far holds both messages, each once" \
	"$(printf '<%s@lost.test>\n' moved n1)" "$(ids "$F/INBOX")"
in_order "a clash: the settling rename, the fsync of cur/, then the journal" \
	"$TMP/clash.trace" \
	"rename(\"$N/INBOX/cur/2002.moved,U=1:2,S\", \"$N/INBOX/cur/2002.moved,U=2:2,S\") = 0" \
	"<$N/INBOX/cur>) = 0" \
	"$STATE.journal\", O_WRONLY"

# First contact without copies: the same message on both sides, no state;
# the pair is found by content and the state file written alone.
F0=$TMP/far0
N0=$TMP/near0
mkbox "$F0/INBOX"
mkbox "$N0/INBOX"
mkdir -p "$TMP/state0"
mkmsg "$F0/INBOX/cur/3001.both:2,S" both
cp "$F0/INBOX/cur/3001.both:2,S" "$N0/INBOX/cur/3001.both:2,S"
rc_pair "$F0" "$N0" "$TMP/state0" None >"$TMP/contact.rc"
traced contact "$TMP/contact.rc"
expect_eq "a run without copies: exit status" 0 "$status"
expect_eq "a run without copies: no journal written" 0 \
	"$(grep -c 'twinboxstate.journal", O_WRONLY' "$TMP/contact.trace")"
in_order "a run without copies: the scan's rename, the fsync of cur/, then the state file" \
	"$TMP/contact.trace" \
	"rename(\"$N0/INBOX/cur/3001.both:2,S\", \"$N0/INBOX/cur/3001.both,U=1:2,S\") = 0" \
	"<$N0/INBOX/cur>) = 0" \
	"$TMP/state0/:far:INBOX_:near:INBOX.twinboxstate.new\", O_WRONLY"

# Taking \Deleted away: a flag rename that, lost after the state recorded
# it, would come back as a fresh deletion (which an Expunge would carry
# out on both sides); unlike other flag renames it is on disk before the
# state file.
F1=$TMP/far1
N1=$TMP/near1
mkbox "$F1/INBOX"
mkbox "$N1/INBOX"
mkdir -p "$TMP/state1"
mkmsg "$F1/INBOX/cur/4001.und:2,S" und
rc_pair "$F1" "$N1" "$TMP/state1" None >"$TMP/undelete.rc"
run undelete1 "$TMP/undelete.rc"
expect_eq "undelete: the first run's exit status" 0 "$status"
# far's file: its name now carries far's UID too.
far_s=$(cd "$F1/INBOX" && find cur -type f -name '*:2,S')
mv "$F1/INBOX/$far_s" "$F1/INBOX/${far_s}T"
run undelete2 "$TMP/undelete.rc"
expect_eq "undelete: the deletion's run's exit status" 0 "$status"
near_t=$(cd "$N1/INBOX" && find cur -type f -name '*:2,ST')
expect_eq "undelete: near's copy is marked T" 1 "$(printf '%s\n' "$near_t" | grep -c .)"
mv "$F1/INBOX/${far_s}T" "$F1/INBOX/$far_s"
traced undelete3 "$TMP/undelete.rc"
expect_eq "undelete: the undeletion's run's exit status" 0 "$status"
in_order "undelete: the rename taking T away, the fsync of cur/, then the state file" \
	"$TMP/undelete3.trace" \
	"rename(\"$N1/INBOX/$near_t\", \"$N1/INBOX/${near_t%T}\") = 0" \
	"<$N1/INBOX/cur>) = 0" \
	"$TMP/state1/:far:INBOX_:near:INBOX.twinboxstate.new\", O_WRONLY"

# ---- what a lost rename would cost ----------------------------------------

# lose_rename DIR NAME: the file NAME of folder DIR back under the name
# it had before the scan gave it a UID, as a crash that loses the rename
# would leave it.
lose_rename() {
	local old=$1/$2 back
	back=$(printf '%s' "$2" | sed 's/,U=[0-9]*//')
	if [ ! -e "$old" ]; then
		fail "lose_rename: $old is missing"
		return
	fi
	mv "$old" "$1/$back"
}

# Expunge None: nothing is lost, but far's copy of the lost UID is marked
# \Deleted beside a second copy: the duplicate.
for r in 1 2; do
	[ "$r" = 1 ] && lose_rename "$N/INBOX" new/2001.n1,U=1
	run "none$r" "$TMP/none.rc"
	expect_eq "lost rename, Expunge None, run $r: exit status" 0 "$status"
	expect_eq "lost rename, Expunge None, run $r: near holds each message once" \
		"$(printf '<%s@lost.test>\n' moved n1)" "$(ids "$N/INBOX")"
	expect_eq "lost rename, Expunge None, run $r: the far copy of the lost UID is marked \\Deleted" \
		"<n1@lost.test>" "$(deleted "$F/INBOX")"
	expect_eq "lost rename, Expunge None, run $r: far holds it twice (the duplicate)" \
		"$(printf '<%s@lost.test>\n' moved n1 n1)" "$(ids "$F/INBOX")"
done

# Expunge Both: the marked copy goes, a new one stays: once on each side.
F2=$TMP/far2
N2=$TMP/near2
mkbox "$F2/INBOX"
mkbox "$N2/INBOX"
mkdir -p "$TMP/state2"
mkmsg "$N2/INBOX/new/4001.n2" n2
rc_pair "$F2" "$N2" "$TMP/state2" Both >"$TMP/both.rc"
run both1 "$TMP/both.rc"
expect_eq "Expunge Both, first run: exit status" 0 "$status"
lose_rename "$N2/INBOX" new/4001.n2,U=1
for r in 2 3; do
	run "both$r" "$TMP/both.rc"
	expect_eq "lost rename, Expunge Both, run $r: exit status" 0 "$status"
	expect_eq "lost rename, Expunge Both, run $r: near holds it once" \
		"<n2@lost.test>" "$(ids "$N2/INBOX")"
	expect_eq "lost rename, Expunge Both, run $r: far holds it once" \
		"<n2@lost.test>" "$(ids "$F2/INBOX")"
	expect_eq "lost rename, Expunge Both, run $r: nothing marked \\Deleted" "" \
		"$(deleted "$F2/INBOX")$(deleted "$N2/INBOX")"
done

# ---- the same against an IMAP far side ------------------------------------

start_dovecot "$TMP/srv"
N3=$TMP/near3
mkbox "$N3/INBOX"
mkdir -p "$TMP/state3"
mkmsg "$N3/INBOX/new/5001.n3" n3
# rc_imap EXPUNGE: Dovecot's INBOX as far, N3 as near.
rc_imap() {
	cat <<RC
SyncState $TMP/state3/

$(rc_imap_account alice)

IMAPStore far
Account alice

MaildirStore near
Path $N3/
Inbox $N3/INBOX

Channel c
Far :far:
Near :near:
Patterns INBOX
Expunge $1
RC
}
rc_imap None >"$TMP/imap-none.rc"
rc_imap Both >"$TMP/imap-both.rc"
run imap1 "$TMP/imap-none.rc"
expect_eq "IMAP, first run: exit status" 0 "$status"
expect_eq "IMAP, first run: the server holds it once" "<n3@lost.test>" \
	"$(ids "$MAIL_DIR/alice")"
lose_rename "$N3/INBOX" new/5001.n3,U=1
run imap2 "$TMP/imap-none.rc"
expect_eq "lost rename, IMAP, Expunge None: exit status" 0 "$status"
expect_eq "lost rename, IMAP, Expunge None: near holds it once" \
	"<n3@lost.test>" "$(ids "$N3/INBOX")"
expect_eq "lost rename, IMAP, Expunge None: the server's first copy is \\Deleted" \
	"<n3@lost.test>" "$(deleted "$MAIL_DIR/alice")"
expect_eq "lost rename, IMAP, Expunge None: the server holds it twice (the duplicate)" \
	"$(printf '<%s@lost.test>\n' n3 n3)" "$(ids "$MAIL_DIR/alice")"
run imap3 "$TMP/imap-both.rc"
expect_eq "lost rename, IMAP, then Expunge Both: exit status" 0 "$status"
expect_eq "lost rename, IMAP, then Expunge Both: the server holds it once" \
	"<n3@lost.test>" "$(ids "$MAIL_DIR/alice")"
expect_eq "lost rename, IMAP, then Expunge Both: near holds it once" \
	"<n3@lost.test>" "$(ids "$N3/INBOX")"

# Another IMAP client (a phone) deletes the message, then takes the
# deletion back: the near rename taking T away is on disk before the
# state file, as with a Maildir far side.
IMAPC=$(abs_path "$BUILD/tests/tools/imapc")
imap_flags() {
	printf 'SELECT INBOX\nUID STORE 1:* %sFLAGS.SILENT (\\Deleted)\n' "$1" |
		"$IMAPC" "$IMAP_PORT" alice "$PASSWORD" >/dev/null
}
imap_flags +
run imap4 "$TMP/imap-none.rc"
expect_eq "IMAP undelete: the deletion's run's exit status" 0 "$status"
near_t=$(cd "$N3/INBOX" && find cur -type f -name '*T')
expect_eq "IMAP undelete: near's copy is marked T" 1 \
	"$(printf '%s\n' "$near_t" | grep -c .)"
imap_flags -
traced imap5 "$TMP/imap-none.rc"
expect_eq "IMAP undelete: the undeletion's run's exit status" 0 "$status"
in_order "IMAP undelete: the rename taking T away, the fsync of cur/, then the state file" \
	"$TMP/imap5.trace" \
	"rename(\"$N3/INBOX/$near_t\", \"$N3/INBOX/${near_t%T}\") = 0" \
	"<$N3/INBOX/cur>) = 0" \
	"$TMP/state3/:far:INBOX_:near:INBOX.twinboxstate.new\", O_WRONLY"
expect_eq "IMAP undelete: no copy on the server is \\Deleted" "" \
	"$(deleted "$MAIL_DIR/alice")"

echo "maildir_lost_rename: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
