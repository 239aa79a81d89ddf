#!/bin/bash
# MaxMessages, ExpireUnread and Trash against a private Dovecot on an
# IMAP <-> Maildir channel, as mbsync documents them.
#
# MaxMessages 50 over a server folder of 200 messages: UIDs 1-126 unread,
# 127-200 read, 130 also flagged.
#  - ExpireUnread not set: 126 unread messages beyond the window, more
#    than half of it, stop the mailbox with an explanation (exit 1) and
#    nothing is copied.
#  - ExpireUnread no: near gets every unread message, the flagged one and
#    the newest 50: 177; the 23 other old read ones are never copied.
#  - ExpireUnread yes: the near copies of old unread messages expire
#    (removed near only): 51 near, 200 still on the server; a second run
#    has nothing to do, and a run after that copies nothing back.
#  - mbsync 1.4 (package isync) on the same folder refuses the same way
#    and keeps the same messages (177, then the same 51).
# Trash, with Expunge Both, on a folder of four messages:
#  - a message removed near is copied to the server's Trash before the
#    server expunges it;
#  - a message marked \Deleted on the server is expunged on both sides,
#    so each side's Trash gets a copy first;
#  - the Trash mailboxes, missing, are created (as mbsync does);
#  - a Trash that cannot be written (a server folder Dovecot cannot write
#    to, a plain file where the near Trash would be): the run exits 1
#    naming the Trash and the cause, and the messages stay where they
#    were (the server's marked \Deleted); once the Trash is writable the
#    next run trashes each once and expunges it.
# Kill sweeps: a Trash run and a MaxMessages expiry, killed at every step
# and run again, lose nothing (see the two sections at the end).
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

tool_path IMAPC imapc

start_dovecot "$TMP/srv"
N=$TMP/near
A=$MAIL_DIR/alice
mkdir -p "$TMP/state" "$TMP/msg"
for box in INBOX List Box; do
	mkdir -p "$N/$box/cur" "$N/$box/new" "$N/$box/tmp"
done

imapc() {
	"$IMAPC" "$IMAP_PORT" alice secret
}

# Messages of a folder (a Maildir directory) whose Message-ID has TAG.
has() {
	grep -l "^Message-ID: <$2@" "$1"/cur/* "$1"/new/* 2>/dev/null | wc -l
}

count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l
}

# The server's List: 200 messages, 1-126 unread, 130 flagged.
{
	echo 'CREATE List'
	echo 'CREATE Box'
	for i in $(seq 1 200); do
		printf 'Subject: list %s\nMessage-ID: <l%s@expire.test>\n\nBody %s.\n' \
			"$i" "$i" "$i" >"$TMP/msg/l$i"
		if [ "$i" -le 126 ]; then
			flags='()'
		elif [ "$i" -eq 130 ]; then
			flags='(\Seen \Flagged)'
		else
			flags='(\Seen)'
		fi
		echo "@append List $TMP/msg/l$i $flags"
	done
	for i in 1 2 3 4; do
		printf 'Subject: box %s\nMessage-ID: <b%s@expire.test>\n\nBody %s.\n' \
			"$i" "$i" "$i" >"$TMP/msg/b$i"
		echo "@append Box $TMP/msg/b$i (\\Seen)"
	done
} | imapc >"$TMP/fill.out" || { echo "imap_expire_trash: filling the server failed"; exit 1; }

# rc EXPIRE_UNREAD_LINE FAR_TRASH NEAR_TRASH
rc() {
	cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

$(rc_imap_account alice)

IMAPStore far
Account alice
Trash $2

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim
Trash $3

Channel list
Far :far:List
Near :near:List
MaxMessages 50
$1

Channel box
Far :far:Box
Near :near:Box
Expunge Both
RC
}

# run NAME CHANNEL [OPTION...]: its exit status; output in TMP/NAME.out.
run() {
	timeout 120 "$BIN" "${@:3}" -c "$TMP/sync.rc" "$2" >"$TMP/$1.out" \
		2>"$TMP/$1.err"
	echo "$?"
}

# --- MaxMessages ---
rc "" Trash Trash
expect_eq "unset: exit status" 1 "$(run unset list)"
expect_eq "unset: the reason, once" 1 \
	"$(grep -c '126 unread messages are beyond MaxMessages (50); set ExpireUnread' "$TMP/unset.err")"
expect_eq "unset: nothing copied" 0 "$(count "$N/List")"

rc "ExpireUnread no" Trash Trash
expect_eq "no: exit status" 0 "$(run keep list)"
expect_eq "no: near holds unread, flagged and newest 50" 177 "$(count "$N/List")"
expect_eq "no: every unread one near" 126 \
	"$(find "$N/List/cur" "$N/List/new" -type f ! -name '*:2,*S*' | wc -l)"
expect_eq "no: the flagged old one near" 1 "$(has "$N/List" l130)"
expect_eq "no: an old read one not copied" 0 "$(has "$N/List" l127)"
expect_eq "no: the newest near" 1 "$(has "$N/List" l200)"
expect_eq "no: the 50th newest near" 1 "$(has "$N/List" l151)"
expect_eq "no: the 51st newest not copied" 0 "$(has "$N/List" l150)"

rc "ExpireUnread yes" Trash Trash
expect_eq "yes: exit status" 0 "$(run expire list)"
expect_eq "yes: near keeps the newest 50 and the flagged one" 51 "$(count "$N/List")"
expect_eq "yes: an old unread copy expired near" 0 "$(has "$N/List" l1)"
expect_eq "yes: the flagged one stays" 1 "$(has "$N/List" l130)"
expect_eq "yes: the server keeps all 200" 200 "$(count "$A/.List")"
expect_eq "yes: no expiry reached the server" 0 \
	"$(find "$A/.List/cur" "$A/.List/new" -type f -name '*:2,*T*' | wc -l)"
expect_eq "yes: nothing trashed for an expiry" 0 "$(count "$N/Trash")"
expect_eq "yes again: exit status" 0 "$(run again list -V)"
expect_eq "yes again: up to date" 1 "$(grep -c 'list: up to date' "$TMP/again.out")"
expect_eq "yes again: near unchanged" 51 "$(count "$N/List")"

# The same folder through mbsync 1.4 (Debian's isync), into a Maildir
# of its own: the same refusal, and the same messages kept (mbsync marks
# the expired copies \Deleted and removes them with Expunge Near).
command -v mbsync >/dev/null || { echo "FAIL: mbsync (package isync) is not installed"; failed=$((failed + 1)); }
mbrc() {
	cat >"$TMP/mbsyncrc" <<RC
IMAPAccount alice
Host 127.0.0.1
Port $IMAP_PORT
User alice
Pass secret
SSLType None
AuthMechs LOGIN

IMAPStore far
Account alice

MaildirStore near
Path $TMP/mb/
Inbox $TMP/mb/INBOX

Channel list
Create Near
Far :far:List
Near :near:List
SyncState *
MaxMessages 50
$1
RC
}
mbrun() {
	timeout 120 mbsync -c "$TMP/mbsyncrc" list >"$TMP/mb-$1.out" 2>&1
	echo "$?"
}
mkdir -p "$TMP/mb"
mbrc ""
expect_eq "mbsync unset: exit status" 1 "$(mbrun unset)"
expect_eq "mbsync unset: the same count of unread" 1 \
	"$(grep -c '126 unread messages in excess of MaxMessages (50)' "$TMP/mb-unset.out")"
mbrc "ExpireUnread no"
expect_eq "mbsync no: exit status" 0 "$(mbrun keep)"
expect_eq "mbsync no: the same 177 near" 177 "$(count "$TMP/mb/List")"
mbrc "ExpireUnread yes
Expunge Near"
expect_eq "mbsync yes: exit status" 0 "$(mbrun expire)"
expect_eq "mbsync yes: the same 51 near" 51 "$(count "$TMP/mb/List")"
expect_eq "mbsync and twinbox keep the same messages" "" \
	"$(diff <(grep -h '^Message-ID' "$TMP"/mb/List/cur/* "$TMP"/mb/List/new/* 2>/dev/null | sort) \
	<(grep -h '^Message-ID' "$N"/List/cur/* "$N"/List/new/* 2>/dev/null | sort))"

# --- Trash ---
expect_eq "box first: exit status" 0 "$(run box1 box)"
expect_eq "box first: near" 4 "$(count "$N/Box")"
rm "$(grep -l '^Message-ID: <b1@' "$N"/Box/cur/* "$N"/Box/new/* 2>/dev/null)"
expect_eq "near deletion: exit status" 0 "$(run box2 box)"
expect_eq "near deletion: expunged on the server" 0 "$(has "$A/.Box" b1)"
expect_eq "near deletion: in the server's Trash" 1 "$(has "$A/.Trash" b1)"
printf 'SELECT Box\nUID STORE 2 +FLAGS (\\Deleted)\n' | imapc >/dev/null ||
	echo "imap_expire_trash: marking b2 on the server failed"
expect_eq "server deletion: exit status" 0 "$(run box3 box)"
expect_eq "server deletion: expunged near" 0 "$(has "$N/Box" b2)"
expect_eq "server deletion: in the near Trash" 1 "$(has "$N/Trash" b2)"
expect_eq "server deletion: gone from the server" 0 "$(has "$A/.Box" b2)"

# A server Trash the server cannot write: its folder's directories are
# read-only for the account Dovecot runs as.
printf 'CREATE Locked\n' | imapc >/dev/null ||
	echo "imap_expire_trash: creating Locked failed"
chmod 0500 "$A/.Locked/cur" "$A/.Locked/new" "$A/.Locked/tmp"
# A near Trash that cannot be made: a plain file in its place.
echo 'not a mailbox' >"$N/Blocked"
rc "ExpireUnread yes" Locked Blocked
rm "$(grep -l '^Message-ID: <b3@' "$N"/Box/cur/* "$N"/Box/new/* 2>/dev/null)"
printf 'SELECT Box\nUID STORE 4 +FLAGS (\\Deleted)\n' | imapc >/dev/null ||
	echo "imap_expire_trash: marking b4 on the server failed"
expect_eq "Trash refused: exit status" 1 "$(run box4 box)"
expect_eq "Trash refused: the server's refusal, named" 1 \
	"$(grep -c "box: cannot copy 2 messages to Trash 'Locked' on far .*UID COPY to Trash 'Locked': NO .*they are not expunged" "$TMP/box4.err")"
expect_eq "Trash refused: the near Trash, named" 1 \
	"$(grep -c "box: cannot copy 1 message to Trash 'Blocked' on near .*Blocked.*it is not expunged" "$TMP/box4.err")"
expect_eq "Trash refused: both still on the server" "1 1" \
	"$(has "$A/.Box" b3) $(has "$A/.Box" b4)"
expect_eq "Trash refused: marked there" 1 \
	"$(grep -l '^Message-ID: <b3@' "$A"/.Box/cur/* | grep -c ':2,[A-Z]*T')"
expect_eq "Trash refused: still near" 1 "$(has "$N/Box" b4)"
expect_eq "Trash refused: nothing in Locked" 0 "$(count "$A/.Locked")"

chmod 0700 "$A/.Locked/cur" "$A/.Locked/new" "$A/.Locked/tmp"
rm "$N/Blocked"
expect_eq "Trash writable: exit status" 0 "$(run box5 box)"
expect_eq "Trash writable: expunged on the server" 0 "$(has "$A/.Box" b3)"
expect_eq "Trash writable: in the server's Trash" 1 "$(has "$A/.Locked" b3)"
expect_eq "Trash writable: expunged near" 0 "$(has "$N/Box" b4)"
expect_eq "Trash writable: in the near Trash" 1 "$(has "$N/Blocked" b4)"
expect_eq "Trash writable: gone from the server" 0 "$(has "$A/.Box" b4)"
expect_eq "box last: exit status" 0 "$(run box6 box -V)"
expect_eq "box last: up to date" 1 "$(grep -c 'box: up to date' "$TMP/box6.out")"
# A message marked \Deleted on the server is expunged, so trashed, on
# both sides (mbsync's rule: each store trashes what it expunges).
expect_eq "box last: each Trash copy once" "1 1 1 1 1 1" \
	"$(has "$A/.Trash" b1) $(has "$A/.Trash" b2) $(has "$N/Trash" b2) $(has "$A/.Locked" b3) $(has "$A/.Locked" b4) $(has "$N/Blocked" b4)"
expect_eq "box last: Box is empty on both sides" "0 0" \
	"$(count "$A/.Box") $(count "$N/Box")"

# --- Trash under a kill at every step ---
# Per step k: a folder CrK of three messages synced once, then x1
# removed near and x2 marked \Deleted on the server; a run killed at step
# k (TWINBOX_CRASH_AFTER), then a clean run. x1 must end in the server's
# Trash TrK, x2 in both Trash folders, x3 alone left on both sides, none
# of them lost. A kill between a store's answer to a Trash copy and the
# flush of the copy's record can leave a second copy in that Trash
# (docs/sync-rules.md, "Trash"): one such step per trashed message, three
# here, each listed.
crash_rc() {
	cat >"$TMP/crash.rc" <<RC
SyncState $TMP/cstate/

$(rc_imap_account alice)

IMAPStore far
Account alice
Trash Tr$1

MaildirStore near
Path $TMP/cnear/
Inbox $TMP/cnear/INBOX
SubFolders Verbatim
Trash Tr$1

Channel c
Far :far:Cr$1
Near :near:Cr$1
Expunge Both
RC
}

k=${SWEEP_FROM:-1}
k=$((k - 1))
doubles=0
while :; do
	k=$((k + 1))
	rm -rf "$TMP/cstate" "$TMP/cnear"
	mkdir -p "$TMP/cstate" "$TMP/cnear/Cr$k/cur" "$TMP/cnear/Cr$k/new" \
		"$TMP/cnear/Cr$k/tmp"
	{
		echo "CREATE Cr$k"
		for i in 1 2 3; do
			printf 'Subject: x%s\nMessage-ID: <x%s@expire.test>\n\nBody.\n' \
				"$i" "$i" >"$TMP/msg/x$i"
			echo "@append Cr$k $TMP/msg/x$i (\\Seen)"
		done
	} | imapc >/dev/null || { echo "imap_expire_trash: filling Cr$k failed"; failed=$((failed + 1)); break; }
	crash_rc "$k"
	timeout 60 "$BIN" -c "$TMP/crash.rc" c >/dev/null 2>"$TMP/crash-first.err"
	rm "$(grep -l '^Message-ID: <x1@' "$TMP/cnear/Cr$k"/cur/* "$TMP/cnear/Cr$k"/new/* 2>/dev/null)"
	printf 'SELECT Cr%s\nUID STORE 2 +FLAGS (\\Deleted)\n' "$k" | imapc >/dev/null
	TWINBOX_CRASH_AFTER=$k timeout 60 "$BIN" -c "$TMP/crash.rc" c \
		>/dev/null 2>"$TMP/crash-kill.err"
	killed=$?
	timeout 60 "$BIN" -c "$TMP/crash.rc" c >/dev/null 2>"$TMP/crash-clean.err"
	clean=$?
	got="$clean $(has "$A/.Cr$k" x1)$(has "$A/.Cr$k" x2)$(has "$A/.Cr$k" x3) \
$(has "$TMP/cnear/Cr$k" x1)$(has "$TMP/cnear/Cr$k" x2)$(has "$TMP/cnear/Cr$k" x3)"
	t1=$(has "$A/.Tr$k" x1)
	t2=$(has "$A/.Tr$k" x2)
	t3=$(has "$TMP/cnear/Tr$k" x2)
	if [ "$got" != "0 001 001" ] || [ "$t1" -lt 1 ] || [ "$t2" -lt 1 ] ||
		[ "$t3" -lt 1 ] || [ "$t1" -gt 2 ] || [ "$t2" -gt 2 ] ||
		[ "$t3" -gt 2 ] || [ "$(has "$A/.Tr$k" x3)" -ne 0 ]; then
		echo "FAIL: kill at step $k: exit/server/near $got, Trash $t1 $t2 $t3"
		failed=$((failed + 1))
	fi
	if [ "$t1$t2$t3" != "111" ]; then
		doubles=$((doubles + 1))
		echo "kill at step $k: a second Trash copy (far $t1 $t2, near $t3)"
	fi
	# A run that was not killed: every step was swept.
	[ "$killed" -ne 137 ] && break
	[ "$k" -lt 100 ] || { echo "FAIL: over 100 steps"; failed=$((failed + 1)); break; }
done
expect_eq "kill sweep: steps swept beyond 5" 1 "$([ "$k" -gt 5 ] && echo 1 || echo 0)"
echo "imap_expire_trash: kill sweep over $k steps, $doubles with a second Trash copy"
expect_eq "kill sweep: second Trash copies at three steps at most" 1 \
	"$([ "$doubles" -le 3 ] && echo 1 || echo 0)"

# --- MaxMessages under a kill at every step ---
# Per step k: a folder ExK of four read messages synced with MaxMessages
# 4, then a run with MaxMessages 2 (Expunge Both) killed at step k, then
# a clean run: near keeps e3 and e4, the server all four, none marked.
ex_rc() {
	cat >"$TMP/ex.rc" <<RC
SyncState $TMP/estate/

$(rc_imap_account alice)

IMAPStore far
Account alice

MaildirStore near
Path $TMP/enear/
Inbox $TMP/enear/INBOX
SubFolders Verbatim

Channel e
Far :far:Ex$1
Near :near:Ex$1
Expunge Both
MaxMessages $2
RC
}

k=0
while :; do
	k=$((k + 1))
	rm -rf "$TMP/estate" "$TMP/enear"
	mkdir -p "$TMP/estate" "$TMP/enear/Ex$k/cur" "$TMP/enear/Ex$k/new" \
		"$TMP/enear/Ex$k/tmp"
	{
		echo "CREATE Ex$k"
		for i in 1 2 3 4; do
			printf 'Subject: e%s\nMessage-ID: <e%s@expire.test>\n\nBody.\n' \
				"$i" "$i" >"$TMP/msg/e$i"
			echo "@append Ex$k $TMP/msg/e$i (\\Seen)"
		done
	} | imapc >/dev/null || { echo "imap_expire_trash: filling Ex$k failed"; failed=$((failed + 1)); break; }
	ex_rc "$k" 4
	timeout 60 "$BIN" -c "$TMP/ex.rc" e >/dev/null 2>"$TMP/ex-first.err"
	ex_rc "$k" 2
	TWINBOX_CRASH_AFTER=$k timeout 60 "$BIN" -c "$TMP/ex.rc" e \
		>/dev/null 2>"$TMP/ex-kill.err"
	killed=$?
	timeout 60 "$BIN" -c "$TMP/ex.rc" e >/dev/null 2>"$TMP/ex-clean.err"
	got="$? $(has "$A/.Ex$k" e1)$(has "$A/.Ex$k" e2)$(has "$A/.Ex$k" e3)$(has "$A/.Ex$k" e4) \
$(has "$TMP/enear/Ex$k" e1)$(has "$TMP/enear/Ex$k" e2)$(has "$TMP/enear/Ex$k" e3)$(has "$TMP/enear/Ex$k" e4) \
$(find "$A/.Ex$k/cur" "$A/.Ex$k/new" -type f -name '*:2,*T*' | wc -l)"
	if [ "$got" != "0 1111 0011 0" ]; then
		echo "FAIL: expiry killed at step $k: exit, server, near, marked: $got"
		failed=$((failed + 1))
	fi
	[ "$killed" -ne 137 ] && break
	[ "$k" -lt 100 ] || { echo "FAIL: over 100 steps"; failed=$((failed + 1)); break; }
done
expect_eq "expiry kill sweep: steps swept beyond 3" 1 "$([ "$k" -gt 3 ] && echo 1 || echo 0)"
echo "imap_expire_trash: expiry kill sweep over $k steps"

echo "imap_expire_trash: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
