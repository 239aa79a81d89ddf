#!/bin/bash
# Switching from mbsync: the real mbsync (Debian's isync, 1.4) syncs an
# account of a private Dovecot (300 messages with various flags in four
# folders, one of them "Entwürfe", which mbsync 1.4 writes on disk as
# "Entw&APw-rfe"), then twinbox runs with the same configuration file.
# For each place mbsync keeps its state, SyncState * (.mbsyncstate in each
# folder), a SyncState directory and mbsync 1.4's default ~/.mbsync/ (HOME
# set to a directory of the test), a dry run says it would adopt the state
# and writes nothing, then the first twinbox run
#  - sends no BODY[] fetch, no APPEND, STORE, EXPUNGE or MOVE (-D log);
#  - leaves the Maildir tree identical, names and bytes (twinbox's own
#    .twinboxstate files aside), with no twin of "Entw&APw-rfe";
#  - leaves mbsync's files identical, and creates none next to them;
#  - says once that it adopted mbsync's state of the four pairs;
# a second run has nothing to do; then a flag set and a message added on
# the server, and a message added and one deleted in the Maildir, all
# reach the other side, with no message twice anywhere.
# Last, a damaged mbsync state file is not adopted: a warning names
# FILE:LINE, and the pair is met by content, with nothing copied twice.
# Run from the top of the tree; tests/run-all.sh runs it.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

MBSYNC=$(command -v mbsync) || {
	echo "FAIL: mbsync is not installed (Debian package isync)" >&2
	exit 1
}
tool_path IMAPC imapc

start_dovecot "$TMP/srv" alice bob carol dave
for u in alice bob carol dave; do
	bash "$SERVER" populate "$TMP/srv" "$u" 300 4 >>"$TMP/start.out" 2>&1 ||
		{ echo "FAIL: populate $u" >&2; cat "$TMP/start.out" >&2; exit 1; }
done

# rc USER NEAR GLOBAL_SYNCSTATE CHANNEL_SYNCSTATE
rc() {
	cat <<RC
${3:+SyncState $3}

IMAPAccount acct
Host 127.0.0.1
Port $IMAP_PORT
User $1
Pass secret
SSLType None
AuthMechs LOGIN

IMAPStore far
Account acct

MaildirStore near
Path $2/
Inbox $2/INBOX
SubFolders Verbatim

Channel local
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both
Sync All
${4:+SyncState $4}
RC
}

# tree DIR: every name and the checksum of every file, twinbox's aside.
tree() {
	(cd "$1" && find . ! -name '.twinboxstate*' | LC_ALL=C sort &&
		find . -type f ! -name '.twinboxstate*' -exec md5sum {} + |
		LC_ALL=C sort -k2)
}

# mbsync_files DIR: mbsync's state files, names and checksums.
mbsync_files() {
	(cd "$1" && find . -type f ! -name '*.twinboxstate*' \
		! -name '.twinboxstate*' ! -path '*/cur/*' ! -path '*/new/*' \
		! -path '*/tmp/*' -exec md5sum {} + | LC_ALL=C sort -k2)
}

# msgids DIR: the Message-IDs of a Maildir folder, one a line, sorted.
msgids() {
	find "$1/cur" "$1/new" -type f -exec grep -hi -m1 '^Message-ID:' {} + |
		LC_ALL=C sort
}

twinbox() {
	local name=$1
	shift
	timeout 120 "$BIN" -D "$@" local >"$TMP/$name.out" 2>"$TMP/$name.err"
	echo $?
}

# protocol NAME: the commands sent, from the -D log.
commands() {
	grep -E '^debug: [^ ]+ >> ' "$TMP/$1.out" |
		sed 's/^debug: [^ ]* >> [^ ]* //'
}

expect_quiet_protocol() {
	local cmds
	cmds=$(commands "$1")
	expect_eq "$2: no message body fetched" 0 \
		"$(grep -c 'BODY\(\.PEEK\)\?\[\]' <<<"$cmds")"
	expect_eq "$2: no APPEND, STORE, EXPUNGE or MOVE" 0 \
		"$(grep -ciE '^(UID )?(APPEND|STORE|EXPUNGE|MOVE)' <<<"$cmds")"
}

# no_duplicates LABEL MAILDIR_FOLDER
no_duplicates() {
	expect_eq "$1: no Message-ID twice" "" "$(msgids "$2" | uniq -d)"
}

# adopt USER LABEL GLOBAL CHANNEL: mbsync, then twinbox twice.
adopt() {
	local u=$1 label=$2 near=$TMP/near-$1 cfg=$TMP/$1.rc
	mkdir -p "$near" "$TMP/state-$u"
	rc "$u" "$near" "$3" "$4" >"$cfg"
	if ! timeout 120 "$MBSYNC" -c "$cfg" local >"$TMP/mbsync-$u.out" 2>&1
	then
		fail "$label: mbsync's sync" "$(cat "$TMP/mbsync-$u.out")"
		return 1
	fi
	expect_eq "$label: mbsync wrote the UTF-7 folder" yes \
		"$([ -d "$near/Entw&APw-rfe/cur" ] && echo yes)"
	tree "$near" >"$TMP/tree-$u.before"
	mbsync_files "$near" >"$TMP/mb-$u.before"
	mbsync_files "$TMP/state-$u" >>"$TMP/mb-$u.before"
	expect_eq "$label: mbsync's state is there" yes \
		"$([ "$(grep -c mbsync "$TMP/mb-$u.before")" -ge 4 ] ||
			[ "$(grep -c ':far:' "$TMP/mb-$u.before")" -ge 4 ] &&
			echo yes)"

	expect_eq "$label: dry run" 0 "$(twinbox "$u-0" --dry-run -c "$cfg")"
	expect_eq "$label: the dry run would adopt" 1 \
		"$(grep -c "channel local: would adopt mbsync's state of 4 mailbox pairs" \
			"$TMP/$u-0.out")"
	expect_eq "$label: the dry run wrote no state" "" \
		"$(find "$near" "$TMP/state-$u" -name '*twinboxstate*')"
	expect_eq "$label: first twinbox run" 0 "$(twinbox "$u-1" -c "$cfg")"
	expect_quiet_protocol "$u-1" "$label: first run"
	expect_eq "$label: the adoption said once" 1 \
		"$(grep -c "channel local: adopted mbsync's state of 4 mailbox pairs" \
			"$TMP/$u-1.out" "$TMP/$u-1.err" |
			awk -F: '{ n += $NF } END { print n }')"
	tree "$near" >"$TMP/tree-$u.after"
	expect_eq "$label: Maildir tree unchanged (names and bytes)" "" \
		"$(diff "$TMP/tree-$u.before" "$TMP/tree-$u.after")"
	mbsync_files "$near" >"$TMP/mb-$u.after"
	mbsync_files "$TMP/state-$u" >>"$TMP/mb-$u.after"
	expect_eq "$label: mbsync's files unchanged, none added" "" \
		"$(diff "$TMP/mb-$u.before" "$TMP/mb-$u.after" | grep -v twinboxstate)"

	expect_eq "$label: second twinbox run" 0 "$(twinbox "$u-2" -c "$cfg")"
	expect_quiet_protocol "$u-2" "$label: second run"
	expect_eq "$label: second run has nothing to do" 4 \
		"$(grep -c ': up to date$' "$TMP/$u-2.out")"
	expect_eq "$label: no second adoption" 0 \
		"$(grep -c adopted "$TMP/$u-2.out" "$TMP/$u-2.err" |
			awk -F: '{ n += $NF } END { print n }')"
}

# changes USER LABEL: both sides change, twinbox carries it all over.
changes() {
	local u=$1 label=$2 near=$TMP/near-$1 cfg=$TMP/$1.rc
	local srv=$MAIL_DIR/$1 flagid delid uid f
	# A message without \Flagged gets it on the server.
	f=$(find "$near/INBOX/cur" -name '*:2,S' | LC_ALL=C sort | head -1)
	flagid=$(grep -i -m1 '^Message-ID:' "$f" | sed 's/^[^:]*: *//')
	uid=$(printf 'SELECT INBOX\nUID SEARCH HEADER Message-ID "%s"\n' \
		"$flagid" | "$IMAPC" "$IMAP_PORT" "$u" secret |
		awk '$1 == "*" && $2 == "SEARCH" { print $3 }')
	printf 'SELECT INBOX\nUID STORE %s +FLAGS.SILENT (\\Flagged)\n' "$uid" |
		"$IMAPC" "$IMAP_PORT" "$u" secret >/dev/null ||
		fail "$label: flag on the server"
	# A new message on the server, one in the Maildir.
	printf 'From: a@example.org\nSubject: new far\nMessage-ID: <far-%s@t>\n\nbody\n' \
		"$u" >"$TMP/far.eml"
	printf '@append INBOX %s ()\n' "$TMP/far.eml" |
		"$IMAPC" "$IMAP_PORT" "$u" secret >/dev/null ||
		fail "$label: append on the server"
	printf 'From: b@example.org\nSubject: new near\nMessage-ID: <near-%s@t>\n\nbody\n' \
		"$u" >"$near/INBOX/new/1.near-$u.host"
	# A message deleted in the Maildir.
	f=$(find "$near/INBOX/cur" -name '*:2,S' | LC_ALL=C sort | sed -n 5p)
	delid=$(grep -i -m1 '^Message-ID:' "$f" | sed 's/^[^:]*: *//')
	rm -f "$f"

	expect_eq "$label: run after changes" 0 "$(twinbox "$u-3" -c "$cfg")"
	expect_eq "$label: the server's flag reached the Maildir" 1 \
		"$(grep -l -F "$flagid" "$near"/INBOX/cur/*:2,F* 2>/dev/null | wc -l)"
	expect_eq "$label: the server's message reached the Maildir" 1 \
		"$(msgids "$near/INBOX" | grep -c "<far-$u@t>")"
	expect_eq "$label: the Maildir's message reached the server" 1 \
		"$(msgids "$srv" | grep -c "<near-$u@t>")"
	expect_eq "$label: the deletion reached the server" 0 \
		"$(msgids "$srv" | grep -c -F "$delid")"
	no_duplicates "$label: Maildir INBOX" "$near/INBOX"
	no_duplicates "$label: server INBOX" "$srv"
	expect_eq "$label: both INBOXes hold the same messages" "" \
		"$(diff <(msgids "$near/INBOX") <(msgids "$srv"))"
	expect_eq "$label: the folder keeps mbsync's spelling, no twin" \
		"Entw&APw-rfe" "$(cd "$near" && ls -d Entw*)"
	expect_eq "$label: no twin folder on the server" ".Entw&APw-rfe" \
		"$(cd "$srv" && ls -d .Entw*)"
	expect_eq "$label: run after that" 0 "$(twinbox "$u-4" -c "$cfg")"
	expect_eq "$label: then nothing to do" 4 \
		"$(grep -c ': up to date$' "$TMP/$u-4.out")"
}

if adopt alice "SyncState *" "" "*"; then
	changes alice "SyncState *"
fi
if adopt bob "SyncState directory" "$TMP/state-bob/" ""; then
	changes bob "SyncState directory"
fi

# No SyncState: mbsync 1.4's ~/.mbsync/, with HOME in the test directory.
if (export HOME=$TMP/state-dave && unset XDG_STATE_HOME XDG_CONFIG_HOME &&
	adopt dave "default SyncState" "" "" && changes dave "default SyncState"
	echo "$passed $failed" >"$TMP/dave.counts"); then :; fi
if [ -r "$TMP/dave.counts" ]; then
	read -r p f <"$TMP/dave.counts"
	passed=$p failed=$f
else
	fail "default SyncState: the checks did not run"
fi
expect_eq "default SyncState: mbsync wrote ~/.mbsync/" 4 \
	"$(find "$TMP/state-dave/.mbsync" -name ':far:*' ! -name '*.twinboxstate*' | wc -l)"

# A damaged state file: not adopted, a warning, first contact by content.
u=carol
mkdir -p "$TMP/near-$u" "$TMP/state-$u"
rc "$u" "$TMP/near-$u" "$TMP/state-$u/" "" >"$TMP/$u.rc"
if timeout 120 "$MBSYNC" -c "$TMP/$u.rc" local >"$TMP/mbsync-$u.out" 2>&1; then
	st="$TMP/state-$u/:far:INBOX_:near:INBOX"
	echo "12 34 SQ" >>"$st"
	line=$(wc -l <"$st")
	msgids "$TMP/near-$u/INBOX" >"$TMP/$u.ids"
	expect_eq "damaged state: twinbox run" 0 "$(twinbox "$u-1" -c "$TMP/$u.rc")"
	expect_eq "damaged state: warned with FILE:LINE" 1 \
		"$(grep -c -F "local:INBOX: mbsync's state is not adopted: $st:$line: malformed entry flags" \
			"$TMP/$u-1.err")"
	expect_eq "damaged state: the other pairs adopted" 1 \
		"$(grep -c "adopted mbsync's state of 3 mailbox pairs" "$TMP/$u-1.out")"
	expect_eq "damaged state: nothing appended" 0 \
		"$(commands "$u-1" | grep -ciE '^(UID )?APPEND')"
	expect_eq "damaged state: the Maildir INBOX is unchanged" "" \
		"$(diff "$TMP/$u.ids" <(msgids "$TMP/near-$u/INBOX"))"
	no_duplicates "damaged state: server INBOX" "$MAIL_DIR/$u"
else
	fail "damaged state: mbsync's sync" "$(cat "$TMP/mbsync-$u.out")"
fi

echo "mbsync_adopt: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
