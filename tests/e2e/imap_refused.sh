#!/bin/bash
# A message the server refuses, against a private Dovecot, on an IMAP <->
# Maildir channel: the near Maildir holds five messages, one of them an
# empty file, which Dovecot will not store ("Can't save a zero byte
# message"). Two of the others have CRLF line ends, as some tools write
# them. Three runs; after each:
#  - the run exits with status 1;
#  - the refusal is reported once, naming the file, in Dovecot's words;
#  - the near side holds 5 messages and the server 4, each Message-ID
#    once on each side: what the batch appended is recorded, nothing is
#    copied twice in either direction;
#  - after the first run, each run sends exactly one APPEND (the refused
#    message, tried again once).
# Then the empty file gets a body: the next run exits 0 with 5 messages
# on each side, and a dry run plans nothing.
# The server is stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash

start_dovecot "$TMP/srv"
N=$TMP/near
A=$MAIL_DIR/alice

# mkmsg FILE ID [CRLF]: a small message with Message-ID <ID@refused.test>.
mkmsg() {
	local eol='\n'

	[ "${3:-}" = crlf ] && eol='\r\n'
	printf "From: s@refused.test${eol}Subject: %s${eol}Message-ID: <%s@refused.test>${eol}${eol}Body of %s.${eol}" \
		"$2" "$2" "$2" >"$1"
}

mkdir -p "$N/INBOX/cur" "$N/INBOX/new" "$N/INBOX/tmp" "$TMP/state"
mkmsg "$N/INBOX/new/1001.one" one
mkmsg "$N/INBOX/new/1002.two" two crlf
mkmsg "$N/INBOX/cur/1003.three:2,S" three crlf
mkmsg "$N/INBOX/new/1004.four" four
: >"$N/INBOX/new/1005.empty"

cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

IMAPAccount alice
Host 127.0.0.1
Port $IMAP_PORT
User alice
Pass secret
TLSType None
AuthMechs PLAIN

IMAPStore far
Account alice

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim

Channel local
Far :far:
Near :near:
Patterns INBOX
Create Both
Expunge Both
RC

# count DIR: message files of a Maildir folder.
count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l
}

# ids DIR: the Message-IDs of a folder's messages, one a line, sorted.
ids() {
	find "$1/cur" "$1/new" -type f -exec cat {} + 2>/dev/null |
		tr -d '\r' | sed -n 's/^Message-ID: //p' | sort
}

# run NAME: one sync with the protocol log; status in $status.
run() {
	timeout 120 "$BIN" -D -c "$TMP/sync.rc" local >"$TMP/$1.out" \
		2>"$TMP/$1.err"
	status=$?
}

expected_ids=$(printf '<%s@refused.test>\n' four one three two)
for r in 1 2 3; do
	run "run$r"
	expect_eq "run $r: exit status" 1 "$status"
	expect_eq "run $r: the refusal reported once, by file name" 1 \
		"$(grep -c 'error: local:INBOX: near message new/1005\.empty.* not copied: .*APPEND refused: NO' "$TMP/run$r.err")"
	expect_eq "run $r: in Dovecot's words" 1 \
		"$(grep -c "Can't save a zero byte message" "$TMP/run$r.err")"
	expect_eq "run $r: the mailbox's one-line summary" 1 \
		"$(grep -c 'error: local:INBOX: 1 message could not be copied in this run' "$TMP/run$r.err")"
	expect_eq "run $r: no other error" 0 \
		"$(grep -v -e 'zero byte' -e 'could not be copied in this run' "$TMP/run$r.err" | grep -c 'error')"
	expect_eq "run $r: messages near" 5 "$(count "$N/INBOX")"
	expect_eq "run $r: messages on the server" 4 "$(count "$A")"
	expect_eq "run $r: Message-IDs near, each once" "$expected_ids" \
		"$(ids "$N/INBOX")"
	expect_eq "run $r: Message-IDs on the server, each once" \
		"$expected_ids" "$(ids "$A")"
	if [ "$r" -gt 1 ]; then
		expect_eq "run $r: one APPEND, the refused message's" 1 \
			"$(grep -c '>> [A-Z0-9]* APPEND ' "$TMP/run$r.out")"
	fi
done

# The message gets a body: it goes, and the pair settles.
mkmsg "$(find "$N/INBOX/new" -name '1005.empty*')" five
run run4
expect_eq "run 4: exit status" 0 "$status"
expect_eq "run 4: messages near" 5 "$(count "$N/INBOX")"
expect_eq "run 4: messages on the server" 5 "$(count "$A")"
expect_eq "run 4: Message-IDs on the server" \
	"$(printf '%s\n' "$expected_ids" '<five@refused.test>' | sort)" \
	"$(ids "$A")"
timeout 60 "$BIN" --dry-run -c "$TMP/sync.rc" local >"$TMP/dry.out" 2>&1
expect_eq "dry run: nothing to do" 1 \
	"$(grep -c 'local:INBOX: dry run: nothing to do' "$TMP/dry.out")"

echo "imap_refused: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
