#!/bin/bash
# mbsync's mailbox-naming keys and its configuration file, against a
# private Dovecot (hierarchy separator '/'), on IMAP <-> Maildir channels:
#  - Flatten '.': the server's INBOX, Work, Work/Projects and Lists/dev
#    appear near as the folders Work, Work.Projects and Lists.dev (no
#    nested directories); a folder made near as Local.Sub is created on
#    the server as Local/Sub (Create Far); the next run changes nothing;
#    a folder a.b beside a/b (Maildir to Maildir) is refused at every run
#    with an error naming both, and never merged into a/b's folder;
#  - MapInbox Incoming on the IMAP store: the server's INBOX is synced
#    as the mailbox Incoming, both ways;
#  - SubscribedOnly: only subscribed folders are synced, also by an
#    IMAPStore whose channel runs on another IMAPStore's connection; after a
#    SUBSCRIBE, the next run syncs that one too;
#  - InfoDelimiter ';': near file names carry ";2,<flags>" and no ':',
#    and flags travel both ways;
#  - HOME holding nothing but .mbsyncrc: twinbox reads it, and -V says so.
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

export TEST_SERVER_SEPARATOR=/
start_dovecot "$TMP/srv"

# mkmsg FILE ID: a small message with Message-ID <ID@names.test>.
mkmsg() {
	printf 'From: s@names.test\nSubject: %s\nMessage-ID: <%s@names.test>\n\nBody of %s.\n' \
		"$2" "$2" "$2" >"$1"
}

# imap COMMAND...: one imapc connection as alice, each argument a line.
imap() {
	printf '%s\n' "$@" | timeout 60 "$IMAPC" "$IMAP_PORT" alice secret
}

# server_count MAILBOX: messages in a server mailbox (server name).
server_count() {
	imap "STATUS \"$1\" (MESSAGES)" |
		sed -n 's/.*(MESSAGES \([0-9]*\)).*/\1/p'
}

# server_boxes: the server's mailboxes, one a line, sorted.
server_boxes() {
	imap 'LIST "" "*"' |
		sed -n 's/^\* LIST ([^)]*) "\/" "\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' |
		sort
}

# count DIR: message files of a Maildir folder.
count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l
}

# folders DIR: the Maildir folders right under DIR, sorted.
folders() {
	find "$1" -mindepth 2 -maxdepth 2 -name cur -type d |
		sed "s|^$1/||; s|/cur\$||" | sort
}

mkdir -p "$TMP/msgs" "$TMP/state"
for id in in1 in2 w1 p1 p2 d1; do
	mkmsg "$TMP/msgs/$id" "$id"
done
imap 'CREATE Work' 'CREATE Work/Projects' 'CREATE Lists/dev' \
	'@append INBOX '"$TMP"'/msgs/in1 (\Seen)' \
	'@append INBOX '"$TMP"'/msgs/in2 ()' \
	'@append Work '"$TMP"'/msgs/w1 ()' \
	'@append Work/Projects '"$TMP"'/msgs/p1 (\Flagged)' \
	'@append Work/Projects '"$TMP"'/msgs/p2 ()' \
	'@append Lists/dev '"$TMP"'/msgs/d1 ()' 'SUBSCRIBE Work' >/dev/null ||
	fail "populating the server"

account() {
	rc_imap_account alice
	echo
}

N=$TMP/near
mkdir -p "$N"
{
	echo "SyncState $TMP/state/"
	echo
	account
	cat <<RC
IMAPStore far
Account alice

MaildirStore near
Path $N/
Inbox $N/INBOX
Flatten .

Channel flat
Far :far:
Near :near:
Patterns *
Create Both
RC
} >"$TMP/flat.rc"

# run NAME RC CHANNEL [OPTION...]: one sync; status in $status.
run() {
	local name=$1 rc=$2 ch=$3
	shift 3
	timeout 120 "$BIN" "$@" -c "$rc" "$ch" >"$TMP/$name.out" \
		2>"$TMP/$name.err"
	status=$?
}

# --- Flatten ---------------------------------------------------------------
run flat1 "$TMP/flat.rc" flat
expect_eq "Flatten, run 1: exit status" 0 "$status"
expect_eq "Flatten, run 1: the folders near, flattened" \
	"$(printf '%s\n' INBOX Lists.dev Work Work.Projects)" "$(folders "$N")"
expect_eq "Flatten, run 1: no nested folder near" "" \
	"$(find "$N/Work" "$N/Lists" -mindepth 1 -maxdepth 1 -name Projects -o -mindepth 1 -maxdepth 1 -name dev 2>/dev/null)"
expect_eq "Flatten, run 1: Work.Projects near" 2 "$(count "$N/Work.Projects")"
expect_eq "Flatten, run 1: Lists.dev near" 1 "$(count "$N/Lists.dev")"
expect_eq "Flatten, run 1: the flag of p1 near" 1 \
	"$(find "$N/Work.Projects" -type f -name '*,U=*:2,F' |
		xargs grep -l 'p1@names' | wc -l)"

mkbox "$N/Local.Sub"
mkmsg "$N/Local.Sub/new/2001.local" l1
run flat2 "$TMP/flat.rc" flat
expect_eq "Flatten, run 2: exit status" 0 "$status"
expect_eq "Flatten, run 2: Local.Sub created on the server as Local/Sub" \
	"Local/Sub" "$(server_boxes | grep -e '^Local/Sub$' -e '^Local\.')"
expect_eq "Flatten, run 2: its message on the server" 1 \
	"$(server_count Local/Sub)"
run flat3 "$TMP/flat.rc" flat
expect_eq "Flatten, run 3: exit status" 0 "$status"
timeout 60 "$BIN" --dry-run -c "$TMP/flat.rc" flat >"$TMP/flat-dry.out" 2>&1
expect_eq "Flatten: a dry run then has nothing to do, in every mailbox" \
	"$(printf 'flat:%s: dry run: nothing to do\n' INBOX Lists/dev \
		Local/Sub Work Work/Projects)" "$(cat "$TMP/flat-dry.out")"
expect_eq "Flatten: nothing twice near" 2 "$(count "$N/Work.Projects")"
expect_eq "Flatten: nothing twice on the server" 2 \
	"$(server_count Work/Projects)"

# Flatten never merges: beside a/b, a folder a.b on the other side (a
# Maildir here: Dovecot refuses '.' in names under '/') cannot be stored.
F=$TMP/merge
mkbox "$F/far/a.b"
mkbox "$F/far/a/b"
mkdir -p "$F/near"
mkmsg "$F/far/a.b/new/4001.dot" dot
mkmsg "$F/far/a/b/new/4002.slash" slash
cat >"$TMP/merge.rc" <<RC
SyncState $TMP/state/

MaildirStore mfar
Path $F/far/
Inbox $F/far/INBOX
SubFolders Verbatim

MaildirStore mnear
Path $F/near/
Inbox $F/near/INBOX
Flatten .

Channel merge
Far :mfar:
Near :mnear:
Patterns a*
Create Both
RC
for r in 1 2; do
	run "merge$r" "$TMP/merge.rc" merge
	expect_eq "Flatten merge, run $r: exit status" 1 "$status"
	expect_eq "Flatten merge, run $r: the error names both" 1 \
		"$(grep -c "mailbox 'a\.b' cannot be stored with Flatten '\.': its name holds the delimiter, so its folder would be the one of mailbox 'a/b'" "$TMP/merge$r.err")"
	expect_eq "Flatten merge, run $r: near a.b holds a/b's message only" \
		"<slash@names.test>" \
		"$(cat "$F"/near/a.b/*/* | sed -n 's/^Message-ID: //p')"
done

# --- MapInbox ----------------------------------------------------------
M=$TMP/mapped
mkdir -p "$M"
{
	echo "SyncState $TMP/state/"
	echo
	account
	cat <<RC
IMAPStore far-mapped
Account alice
MapInbox Incoming

MaildirStore near-mapped
Path $M/
Inbox $M/INBOX

Channel mapped
Far :far-mapped:
Near :near-mapped:
Patterns Incoming
Create Near
RC
} >"$TMP/mapped.rc"
run map1 "$TMP/mapped.rc" mapped
expect_eq "MapInbox, run 1: exit status" 0 "$status"
expect_eq "MapInbox, run 1: only Incoming near" "Incoming" "$(folders "$M")"
expect_eq "MapInbox, run 1: INBOX's messages in Incoming" 2 \
	"$(count "$M/Incoming")"
mkmsg "$M/Incoming/new/3001.near" m1
run map2 "$TMP/mapped.rc" mapped
expect_eq "MapInbox, run 2: exit status" 0 "$status"
expect_eq "MapInbox, run 2: a message of Incoming reaches INBOX" 3 \
	"$(server_count INBOX)"

# --- SubscribedOnly -------------------------------------------------------
S=$TMP/subs
mkdir -p "$S"
{
	echo "SyncState $TMP/state/"
	echo
	account
	cat <<RC
IMAPStore far-subs
Account alice
SubscribedOnly yes

MaildirStore near-subs
Path $S/
Inbox $S/INBOX
SubFolders Verbatim

Channel subs
Far :far-subs:
Near :near-subs:
Patterns *
Create Near
RC
} >"$TMP/subs.rc"
run subs1 "$TMP/subs.rc" subs -D
expect_eq "SubscribedOnly, run 1: exit status" 0 "$status"
expect_eq "SubscribedOnly, run 1: only the subscribed folder" "Work" \
	"$(cd "$S" && find . -name cur -type d | sed 's|^\./||; s|/cur$||' | sort)"
expect_eq "SubscribedOnly, run 1: LSUB asked, no LIST of *" "1 0" \
	"$(grep -c '>> [A-Z0-9]* LSUB ' "$TMP/subs1.out") $(grep -c '>> [A-Z0-9]* LIST "" "\*"' "$TMP/subs1.out")"
imap 'SUBSCRIBE Work/Projects' >/dev/null || fail "SUBSCRIBE"
run subs2 "$TMP/subs.rc" subs
expect_eq "SubscribedOnly, run 2: exit status" 0 "$status"
expect_eq "SubscribedOnly, run 2: the newly subscribed folder too" \
	"$(printf '%s\n' Work Work/Projects)" \
	"$(cd "$S" && find . -name cur -type d | sed 's|^\./||; s|/cur$||' | sort)"
expect_eq "SubscribedOnly, run 2: its messages" 2 \
	"$(count "$S/Work/Projects")"

# SubscribedOnly on the second of two IMAPStores of one IMAPAccount: its
# channel runs on the connection the first store's channel used, and
# still lists only the subscribed folders. Connections 1: the channel's
# mailboxes are not spread over further connections, so the one login
# counted is the shared one.
S2=$TMP/subs-shared
mkdir -p "$S2/inbox" "$S2/subs"
{
	echo "SyncState $TMP/state/"
	echo
	rc_imap_account alice
	echo "Connections 1"
	echo
	cat <<RC
IMAPStore far-all
Account alice

IMAPStore far-subs2
Account alice
SubscribedOnly yes

MaildirStore near-inbox
Path $S2/inbox/
Inbox $S2/inbox/INBOX

MaildirStore near-subs2
Path $S2/subs/
Inbox $S2/subs/INBOX
SubFolders Verbatim

Channel all-inbox
Far :far-all:INBOX
Near :near-inbox:INBOX
Create Near

Channel subs2
Far :far-subs2:
Near :near-subs2:
Patterns *
Create Near
RC
} >"$TMP/subs2.rc"
timeout 120 "$BIN" -D -c "$TMP/subs2.rc" all-inbox subs2 \
	>"$TMP/subs3.out" 2>"$TMP/subs3.err"
expect_eq "SubscribedOnly on a shared connection: exit status" 0 "$?"
expect_eq "SubscribedOnly on a shared connection: one login" 1 \
	"$(grep -c '>> [A-Z0-9]* AUTHENTICATE\|>> [A-Z0-9]* LOGIN' "$TMP/subs3.out")"
expect_eq "SubscribedOnly on a shared connection: only the subscribed" \
	"$(printf '%s\n' Work Work/Projects)" \
	"$(cd "$S2/subs" && find . -name cur -type d | sed 's|^\./||; s|/cur$||' | sort)"

# --- InfoDelimiter ----------------------------------------------------------
I=$TMP/info
mkdir -p "$I"
{
	echo "SyncState $TMP/state/"
	echo
	account
	cat <<RC
IMAPStore far-info
Account alice

MaildirStore near-info
Path $I/
Inbox $I/INBOX
InfoDelimiter ;

Channel info
Far :far-info:INBOX
Near :near-info:INBOX
Create Near
RC
} >"$TMP/info.rc"
run info1 "$TMP/info.rc" info
expect_eq "InfoDelimiter, run 1: exit status" 0 "$status"
expect_eq "InfoDelimiter, run 1: no ':' in any file name" 0 \
	"$(find "$I/INBOX" -type f -name '*:*' | wc -l)"
expect_eq "InfoDelimiter, run 1: in1 read (\\Seen) as ;2,S" 1 \
	"$(find "$I/INBOX/cur" -type f -name '*,U=*;2,S' | xargs grep -l 'in1@names' | wc -l)"
f=$(grep -l 'in2@names' "$I"/INBOX/*/* | head -1)
mv "$f" "$I/INBOX/cur/$(basename "${f%%;*}");2,FS"
imap 'SELECT INBOX' 'STORE 1 +FLAGS (\Answered)' >/dev/null
run info2 "$TMP/info.rc" info
expect_eq "InfoDelimiter, run 2: exit status" 0 "$status"
expect_eq "InfoDelimiter, run 2: flags set near reach the server" 1 \
	"$(imap 'SELECT INBOX' 'UID SEARCH FLAGGED SEEN' |
		grep -c '^\* SEARCH [0-9]')"
expect_eq "InfoDelimiter, run 2: \\Answered from the server reaches in1" 1 \
	"$(find "$I/INBOX/cur" -type f -name '*;2,RS' | xargs grep -l 'in1@names' | wc -l)"
expect_eq "InfoDelimiter: still 3 messages near, none twice" 3 \
	"$(count "$I/INBOX")"

# --- mbsync's file -----------------------------------------------------------
H=$TMP/home
mkdir -p "$H"
cp "$TMP/info.rc" "$H/.mbsyncrc"
(
	export HOME=$H
	unset XDG_CONFIG_HOME
	timeout 120 "$BIN" -V info >"$TMP/home.out" 2>&1
)
status=$?
expect_eq "HOME with only .mbsyncrc: exit status" 0 "$status"
expect_eq "HOME with only .mbsyncrc: -V names it" 1 \
	"$(grep -c "reading configuration from $H/.mbsyncrc\$" "$TMP/home.out")"
(
	export HOME=$H XDG_CONFIG_HOME=$H/xdg
	mkdir -p "$H/xdg"
	cp "$TMP/flat.rc" "$H/xdg/isyncrc"
	timeout 120 "$BIN" -V --dry-run flat >"$TMP/home2.out" 2>&1
)
expect_eq "isyncrc is read before .mbsyncrc" 1 \
	"$(grep -c "reading configuration from $H/xdg/isyncrc\$" "$TMP/home2.out")"

echo "imap_names: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
