#!/bin/bash
# twinbox --verify against a private Dovecot, on an IMAP <-> Maildir
# channel (alice's account and a Maildir) and an IMAP <-> IMAP channel
# (alice and bob, one server):
#  - after a sync, --verify exits 0 with one "agree" line per mailbox; its
#    -D protocol log fetches headers only (BODY.PEEK[HEADER], never a
#    whole message) and sends no STORE, APPEND, EXPUNGE, CREATE or DELETE;
#  - then, on each channel, one message removed on one side, a flag
#    changed and a message copied twice on the other, a message without
#    Message-ID removed, and a folder created on one side only: --verify
#    lists each (only on far, flags differ, extra copy, mailbox exists on
#    one side only), exits 1, and neither side changed (every message's
#    UID, flags and body on the server through tests/tools/imapc, every
#    file name and content of the Maildir, compared before and after);
#  - a named mailbox (CHANNEL:BOX) is verified alone; an unknown channel
#    exits 2; a channel whose login the server refuses exits 1.
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
mkdir -p "$N" "$TMP/state"
bash "$SERVER" populate "$TMP/srv" alice 24 3 >/dev/null ||
	{ echo "FAIL: populate" >&2; exit 1; }
# A message without Message-ID, matched by its header's hash.
mkbox "$N/INBOX"
printf 'From: x@verify.test\nSubject: no id\n\nNo Message-ID here.\n' \
	>"$N/INBOX/cur/1000.noid:2,S"

cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

$(rc_imap_account alice)

$(rc_imap_account bob)

$(rc_imap_account wrong alice not-the-password)

IMAPStore alice
Account alice

IMAPStore wrong
Account wrong

IMAPStore bob
Account bob

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim

Channel local
Far :alice:
Near :near:
Patterns *
Create Both

Channel remote
Far :alice:
Near :bob:
Patterns *
Create Both

Channel refused
Far :wrong:
Near :near:
Patterns *
RC

fails=0
fail() {
	echo "FAIL: $*" >&2
	fails=$((fails + 1))
}

# run NAME ARGS...: the binary, its stdout in TMP/NAME.out, its stderr in
# TMP/NAME.err; prints the exit status.
run() {
	local name=$1
	shift
	"$BIN" -c "$TMP/sync.rc" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $?
}

# server_sum USER: every mailbox of USER with each message's UID, flags
# (\Recent aside) and body, read with imapc.
server_sum() {
	local boxes b
	boxes=$(printf 'LIST "" "*"\n' | "$IMAPC" "$IMAP_PORT" "$1" secret |
		sed -n 's/^\* LIST ([^)]*) "[^"]*" "\{0,1\}\([^"]*\)"\{0,1\}\r\{0,1\}$/\1/p' |
		sort)
	for b in $boxes; do
		echo "== $b"
		printf 'EXAMINE "%s"\nUID FETCH 1:* (UID FLAGS BODY.PEEK[])\n' "$b" |
			"$IMAPC" "$IMAP_PORT" "$1" secret |
			grep '^\* [0-9]* FETCH' | sed 's/\\Recent \{0,1\}//'
	done | sha256sum
}

# near_sum: every file name and content of the Maildir.
near_sum() {
	(cd "$N" && find . -type f ! -name '.uidvalidity' -print0 | sort -z |
		xargs -0 sha256sum; find . | sort) | sha256sum
}

snapshot() {
	echo "$(server_sum alice) $(server_sum bob) $(near_sum)"
}

rc=$(run sync local remote)
[ "$rc" = 0 ] || { fail "first sync exit $rc"; cat "$TMP/sync.err" >&2; }
rc=$(run sync2 local remote)
[ "$rc" = 0 ] || fail "second sync exit $rc"

# 1. After a sync: both channels agree, headers only, nothing written.
before=$(snapshot)
rc=$(run v1 -D --verify local remote)
[ "$rc" = 0 ] || { fail "verify after sync: exit $rc, want 0"; cat "$TMP/v1.out" "$TMP/v1.err" >&2; }
nbox=$(grep -c ': [0-9]* on far, [0-9]* on near, [0-9]* on both: agree$' "$TMP/v1.out")
# 3 mailboxes (INBOX, Archive, Entwürfe) per channel.
[ "$nbox" = 6 ] || { fail "verify after sync: $nbox agree lines, want 6"; cat "$TMP/v1.out" >&2; }
grep -q '^local:INBOX: 9 on far, 9 on near, 9 on both: agree$' "$TMP/v1.out" ||
	{ fail "local:INBOX summary"; cat "$TMP/v1.out" >&2; }
# The -D log (stdout) shows what was sent as "debug: LABEL >> TAG ...".
sent=$(grep -E '^debug: [^ ]+ >> [^ ]+ ' "$TMP/v1.out" | sed 's/^debug: [^ ]* >> [^ ]* //')
echo "$sent" | grep -q '^UID FETCH [0-9:,]* (UID BODY.PEEK\[HEADER\])$' ||
	fail "no header FETCH in the -D log"
bad=$(echo "$sent" | grep -E 'BODY(\.PEEK)?\[\]|RFC822( |\)|$)|BODY(\.PEEK)?\[TEXT\]|^(UID )?(STORE|COPY|MOVE|EXPUNGE)|^(APPEND|EXPUNGE|CREATE|DELETE|RENAME|SUBSCRIBE)')
[ -z "$bad" ] || fail "verify read a body or wrote: $(echo "$bad" | head -3)"
[ "$(snapshot)" = "$before" ] || fail "verify after sync changed a side"
! grep -q 'error' "$TMP/v1.err" || fail "verify after sync printed an error"

# 2. Differences, made behind twinbox's back.
# with_id N: the N-th message file of the near INBOX with a Message-ID.
with_id() {
	find "$N/INBOX/cur" "$N/INBOX/new" -type f | sort |
		xargs grep -l '^Message-ID:' | sed -n "$1p"
}
gone=$(with_id 1)
gone_id=$(sed -n 's/^Message-ID: *//p' "$gone" | head -1)
rm "$gone"
rm "$N"/INBOX/cur/1000.noid*
flagged=$(with_id 3)
flag_id=$(sed -n 's/^Message-ID: *//p' "$flagged" | head -1)
mv "$flagged" "${flagged%%:2,*}:2,FS"
dup=$(with_id 4)
dup_id=$(sed -n 's/^Message-ID: *//p' "$dup" | head -1)
cp "$dup" "$N/INBOX/new/2000.dup"
mkbox "$N/Only-near"
# On bob's side of the remote channel, through IMAP: one message
# expunged, one flagged, one appended a second time.
printf 'From: y@verify.test\r\nSubject: dup\r\nMessage-ID: %s\r\n\r\nbody\r\n' \
	"<extra@verify.test>" >"$TMP/extra.eml"
printf '%s\n' 'SELECT INBOX' 'UID STORE 1 +FLAGS (\Deleted)' 'EXPUNGE' \
	'UID STORE 2 +FLAGS (\Flagged)' \
	"@append INBOX $TMP/extra.eml ()" "@append INBOX $TMP/extra.eml ()" \
	'CREATE "Only-bob"' |
	"$IMAPC" "$IMAP_PORT" bob secret >"$TMP/imapc.out" ||
	fail "imapc changes on bob"

before=$(snapshot)
rc=$(run v2 --verify local remote)
[ "$rc" = 1 ] || fail "verify with differences: exit $rc, want 1"
out=$TMP/v2.out
grep -q "^local:INBOX: only on far: UID [0-9]*: .*Message-ID: $gone_id$" "$out" ||
	fail "removed message not listed ($gone_id)"
grep -q "^local:INBOX: only on far: UID [0-9]*: .*Subject: no id; Message-ID: $" "$out" ||
	fail "removed message without Message-ID not listed"
grep -q "^local:INBOX: flags differ: far UID [0-9]* ([A-Z]*), near UID [0-9]* (FS): .*Message-ID: $flag_id$" "$out" ||
	fail "flag difference not listed ($flag_id)"
grep -q "^local:INBOX: extra copy on near: UID [0-9]*: .*Message-ID: $dup_id$" "$out" ||
	fail "duplicate not listed ($dup_id)"
grep -q "^local:Only-near: mailbox 'Only-near' exists on near only: differ$" "$out" ||
	fail "one-sided mailbox not listed"
grep -q '^local:INBOX: 9 on far, 8 on near, 7 on both: differ (4 differences)$' "$out" ||
	fail "local:INBOX summary"
grep -q '^remote:INBOX: only on far: UID 1: ' "$out" ||
	fail "remote: expunged message not listed"
grep -q '^remote:INBOX: flags differ: far UID 2 ([A-Z]*), near UID 2 (F[A-Z]*): ' "$out" ||
	fail "remote: flag difference not listed"
# Two copies on one side and none on the other: both on that side only.
[ "$(grep -c '^remote:INBOX: only on near: UID [0-9]*: .*Message-ID: <extra@verify.test>$' "$out")" = 2 ] ||
	fail "remote: twice-appended message not listed twice as only on near"
grep -q '^remote:INBOX: 9 on far, 10 on near, 8 on both: differ (4 differences)$' "$out" ||
	fail "remote:INBOX summary"
grep -q "^remote:Only-bob: mailbox 'Only-bob' exists on near only: differ$" "$out" ||
	fail "remote: one-sided mailbox not listed"
grep -q '^remote:Only-near: ' "$out" && fail "remote: a mailbox of the Maildir listed"
[ "$(grep -c ': agree$' "$out")" = 4 ] ||
	fail "$(grep -c ': agree$' "$out") unchanged mailboxes agree, want 4"
[ "$(snapshot)" = "$before" ] || fail "verify with differences changed a side"
[ ! -e "$N/Only-bob" ] || fail "verify created a mailbox"

# 3. One named mailbox; an unknown channel.
rc=$(run v3 --verify local:INBOX)
[ "$rc" = 1 ] && [ "$(grep -c 'on both' "$TMP/v3.out")" = 1 ] ||
	fail "verify local:INBOX: exit $rc, $(grep -c 'on both' "$TMP/v3.out") summaries"
rc=$(run v4 --verify nosuch)
[ "$rc" = 2 ] || fail "verify of an unknown channel: exit $rc, want 2"
# A login the server refuses: a failure, exit 1, no summary line.
rc=$(run v5 --verify refused)
[ "$rc" = 1 ] && grep -q 'error' "$TMP/v5.err" && ! grep -q 'on both' "$TMP/v5.out" ||
	fail "verify with a refused login: exit $rc, want 1 and an error"

if [ "$fails" -ne 0 ]; then
	echo "--- verify output:" >&2
	cat "$TMP/v2.out" >&2
	echo "imap_verify: $fails failure(s)" >&2
	exit 1
fi
echo "imap_verify: ok"
