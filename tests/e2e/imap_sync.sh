#!/bin/bash
# End-to-end runs of the twinbox binary against a private Dovecot:
#  - an IMAP <-> Maildir channel: initial sync of several folders (one
#    with a non-ASCII name), byte-identical copies, changes on both sides
#    (new messages, flags, a deletion with Expunge Both), and a third run
#    that has nothing to do;
#  - an IMAP <-> IMAP channel from alice to bob, including the non-ASCII
#    folder, byte-identical, then idempotent.
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

# Content hashes of every message under the given Maildir folders, sorted:
# equal lists mean the same messages, byte for byte.
hashes() {
	local d
	for d in "$@"; do
		find "$d/cur" "$d/new" -type f -exec sha256sum {} + 2>/dev/null
	done | awk '{ print $1 }' | sort
}

# Content hash and modification time (Dovecot's INTERNALDATE) of every
# message, sorted.
hashes_dates() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | while read -r f; do
		echo "$(sha256sum <"$f" | cut -c1-64) $(stat -c %Y "$f")"
	done | sort
}

run() {
	local name=$1
	shift
	if timeout 120 "$BIN" -c "$TMP/sync.rc" "$@" >"$TMP/$name.out" \
	    2>&1; then
		pass "run $name"
	else
		fail "run $name (exit $?)" "$(tail -20 "$TMP/$name.out")"
	fi
}

start_dovecot "$TMP/srv"
bash "$SERVER" populate "$TMP/srv" alice 80 6 >/dev/null || {
	echo "FAIL: populate" >&2
	exit 1
}
A=$MAIL_DIR/alice
B=$MAIL_DIR/bob
N=$TMP/near

cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

IMAPAccount alice
Host 127.0.0.1
Port $IMAP_PORT
User alice
PassCmd "echo secret"
TLSType STARTTLS
CertificateFile $CA_FILE
SystemCertificates no

IMAPAccount bob
Host 127.0.0.1
Port $IMAPS_PORT
User bob
Pass secret
TLSType IMAPS
CertificateFile $CA_FILE

IMAPStore far
Account alice

IMAPStore bobstore
Account bob

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim

Channel local
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both

Channel migrate
Far :far:
Near :bobstore:
Patterns *
Create Near
CopyArrivalDate yes
RC
mkdir -p "$TMP/state" "$N"

# ---- IMAP <-> Maildir ---------------------------------------------------

run first local
for f in INBOX Entwürfe Archive Sent Lists Lists/dev; do
	case $f in
	INBOX) sdir=$A ;;
	Entwürfe) sdir="$A/.Entw&APw-rfe" ;;
	Lists/dev) sdir=$A/.Lists.dev ;;
	*) sdir=$A/.$f ;;
	esac
	expect_eq "$f copied byte for byte" "$(hashes "$sdir")" \
	    "$(hashes "$N/$f")"
done
expect_eq "non-ASCII folder made locally" yes \
    "$([ -d "$N/Entwürfe/cur" ] && echo yes)"

# Changes on the near side: a new message, a flag, a deletion.
printf 'From: n@example.org\nSubject: from near\nMessage-ID: <near.1@e2e>\n\nnear body\n' \
    >"$N/Sent/new/1700000000.near1.host"
inbox_file=$(ls "$N/INBOX/cur" | sort | head -1)
mv "$N/INBOX/cur/$inbox_file" "$N/INBOX/cur/${inbox_file%%:2,*}:2,FS"
flag_id=$(grep -m1 -i '^Message-ID:' "$N/INBOX/cur/${inbox_file%%:2,*}:2,FS")
victim=$(ls "$N/Archive/cur" | sort | head -1)
victim_id=$(grep -m1 -i '^Message-ID:' "$N/Archive/cur/$victim")
rm "$N/Archive/cur/$victim"
# Changes on the far side, made in the server's own Maildir.
printf 'From: f@example.org\nSubject: from far\nMessage-ID: <far.1@e2e>\n\nfar body\n' \
    >"$A/.Lists/new/1700000001.far1.host"
chown -R "$MAIL_OWNER" "$A"

run second local
expect_eq "near message reached the server" 1 \
    "$(grep -rl 'near.1@e2e' "$A/.Sent" | wc -l)"
expect_eq "far message reached the maildir" 1 \
    "$(grep -rl 'far.1@e2e' "$N/Lists" | wc -l)"
expect_eq "flag reached the server" 1 \
    "$(grep -rlF "$flag_id" "$A/cur" | grep -c ':2,[A-Z]*F')"
expect_eq "deletion expunged on the server" 0 \
    "$(grep -rlF "$victim_id" "$A/.Archive" | wc -l)"
expect_eq "Sent identical after changes" "$(hashes "$A/.Sent")" \
    "$(hashes "$N/Sent")"
expect_eq "Archive identical after changes" "$(hashes "$A/.Archive")" \
    "$(hashes "$N/Archive")"

run third local -V
expect_eq "third run has nothing to do" "" \
    "$(grep -v -e 'up to date$' -e 'logging in as' -e "$NOOP_TOTAL" "$TMP/third.out")"

# ---- IMAP <-> IMAP -------------------------------------------------------

run migrate migrate
for f in "" ".Entw&APw-rfe" .Archive .Sent .Lists .Lists.dev; do
	expect_eq "migrated ${f:-INBOX} byte for byte" "$(hashes "$A/$f")" \
	    "$(hashes "$B/$f")"
done
expect_eq "arrival dates copied (CopyArrivalDate)" \
    "$(hashes_dates "$A/.Archive")" "$(hashes_dates "$B/.Archive")"
run migrate-again migrate -V
expect_eq "second migration has nothing to do" "" \
    "$(grep -v -e 'up to date$' -e 'logging in as' -e "$NOOP_TOTAL" "$TMP/migrate-again.out")"
run debug migrate -D
run debug-all migrate -DN --log-file "$TMP/debug.log"
for f in debug.out debug-all.out debug.log; do
	expect_eq "$f shows the logins of both accounts, redacted" 2 \
	    "$(grep -E ' >> T[0-9]+ AUTHENTICATE PLAIN <redacted [0-9]+ bytes>$' \
	    "$TMP/$f" | sed -E 's/.*debug: ([^#]*)#.*/\1/' | sort -u | wc -l)"
done
# "secret" is the password (Pass, and PassCmd's output); base64
# "AGFsaWNlAHNlY3JldA==" its PLAIN form.
expect_eq "password never printed, even with -D, -DN or in the log file" \
    "" "$(cat "$TMP"/*.out "$TMP/debug.log" | grep -e secret -e AHNlY3JldA)"

# No Pass, no PassCmd, no terminal: a clear error, no hang.
sed -e '/^PassCmd/d' -e '/^Pass /d' "$TMP/sync.rc" >"$TMP/nopass.rc"
setsid -w timeout 30 "$BIN" -c "$TMP/nopass.rc" local </dev/null \
    >"$TMP/nopass.out" 2>&1
expect_eq "no password and no terminal is an error" 1 \
    "$(grep -c "imap store 'far': 127.0.0.1 port $IMAP_PORT: no Pass or \
PassCmd is configured and there is no terminal to ask for the password" \
    "$TMP/nopass.out")"

# A mailbox that does not exist, in the channel or on the command line:
# "cannot be opened" (mbsync's words), exit 1, nothing created anywhere.
cat >>"$TMP/sync.rc" <<RC

Channel ghost
Far :far:NoSuchFolder
Near :near:INBOX
RC
tree_before=$(find "$N" "$TMP/state" | sort)
timeout 60 "$BIN" -c "$TMP/sync.rc" ghost >"$TMP/ghost.total" \
    2>"$TMP/ghost.out"
expect_eq "missing far mailbox: exit 1" 1 "$?"
expect_eq "missing far mailbox: the total counts it failed" 1 \
    "$(grep -c '^twinbox: 1 mailbox pair: 0 changed, 1 failed, ' \
    "$TMP/ghost.total")"
expect_eq "missing far mailbox: the message" "twinbox: error: ghost: far \
mailbox 'NoSuchFolder' of store 'far' cannot be opened: it does not exist, \
and Create does not allow creating it there" "$(cat "$TMP/ghost.out")"
timeout 60 "$BIN" -c "$TMP/sync.rc" local:INBX >/dev/null 2>"$TMP/inbx.out"
expect_eq "mailbox named on the command line: exit 1" 1 "$?"
expect_eq "mailbox named on the command line: the message" "twinbox: error: \
local:INBX: mailbox 'INBX' of store 'far' and mailbox 'INBX' of store 'near' \
cannot be opened: neither exists" "$(cat "$TMP/inbx.out")"
expect_eq "missing mailboxes: nothing created here" "$tree_before" \
    "$(find "$N" "$TMP/state" | sort)"
expect_eq "missing mailboxes: nothing created on the server" "" \
    "$(ls -d "$A/.NoSuchFolder" "$A/.INBX" 2>/dev/null)"

echo "imap_sync.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
