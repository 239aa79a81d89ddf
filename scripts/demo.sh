#!/bin/sh
# make demo: show twinbox at work on a private IMAP server.
#
# Starts a private Dovecot on 127.0.0.1 (its own directory, free ports, a
# self-signed CA), fills a mailbox with a few hundred generated messages in
# several folders, mirrors it into a local Maildir over IMAPS, changes
# something on each side, syncs again, and says what happened at each step.
# Everything lives in one temporary directory, removed at the end; the
# server is stopped even when a step fails.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
twinbox="$root/${TWINBOX_BIN:-build/twinbox}"
work=$(mktemp -d "${TMPDIR:-/tmp}/twinbox-demo.XXXXXX")
chmod 755 "$work"
server="$work/server"

cleanup() {
	"$root/scripts/test-server.sh" stop "$server" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

say() {
	printf '\n== %s\n' "$*"
}

count_local() {
	find "$work/mail" -path '*/cur/*' -o -path '*/new/*' 2>/dev/null |
	    grep -c ',U=' || true
}

say "Starting a private Dovecot on 127.0.0.1 (directory $server)"
"$root/scripts/test-server.sh" start "$server" alice
. "$server/server.env"

say "Generating 300 messages in 5 folders for alice on the server"
"$root/scripts/test-server.sh" populate "$server" alice 300 5 >/dev/null
echo "server folders: $(ls -a "$MAIL_DIR/alice" | grep '^\.[A-Z]' | tr '\n' ' ')INBOX"

cat > "$work/sync.rc" <<RC
# The demo's configuration: mbsync syntax.
IMAPAccount demo
Host 127.0.0.1
Port $IMAPS_PORT
User alice
Pass $PASSWORD
TLSType IMAPS
CertificateFile $CA_FILE

IMAPStore server
Account demo

MaildirStore laptop
Path $work/mail/
Inbox $work/mail/INBOX
SubFolders Verbatim

Channel demo
Far :server:
Near :laptop:
Patterns *
Create Near
Expunge Both
SyncState *
RC
echo "configuration written to $work/sync.rc"
# The Maildir root must exist; its folders are created by the sync.
mkdir -p "$work/mail"

say "First sync: twinbox -c sync.rc demo"
"$twinbox" -c "$work/sync.rc" demo
echo "the laptop's Maildir now holds $(count_local) messages"

say "Changing both sides"
inbox="$work/mail/INBOX/cur"
n=0
for f in $(ls "$inbox" | grep ':2,' | grep -v ':2,[^F]*F' | head -3); do
	flags=$(printf '%sF' "${f##*:2,}" | fold -w1 | sort | tr -d '\n')
	mv "$inbox/$f" "$inbox/${f%:2,*}:2,$flags"
	n=$((n + 1))
done
echo "laptop: flagged $n messages in INBOX (as a mail reader does: by renaming)"
victim=$(ls "$inbox" | tail -1)
rm "$inbox/$victim"
echo "laptop: deleted one message from INBOX"
new="$MAIL_DIR/alice/new/$(date +%s).demo.twinbox"
printf 'From: bob@example.org\nTo: alice@example.org\nSubject: hello from the server side\nMessage-ID: <demo.%s@twinbox.test>\n\nThis message arrived on the server after the first sync.\n' "$$" > "$new"
chown "$MAIL_OWNER" "$new" 2>/dev/null || true
echo "server: a new message arrived in INBOX"

say "Second sync (-V: one line per operation): the flags and the deletion go up, the new message comes down"
"$twinbox" -V -c "$work/sync.rc" demo 2>&1 | grep -v '^maildir ' || true

say "Third sync, dry run: nothing should be left to do"
"$twinbox" --dry-run -c "$work/sync.rc" demo

say "Done: the server is stopped and $work is removed"
