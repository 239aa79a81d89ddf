#!/bin/bash
# A message the server refuses, against a private Dovecot, on an IMAP <->
# Maildir channel: the near Maildir holds four messages, two of them with
# CRLF line ends, as some tools write them. tests/tools/faultproxy stands
# between the binary and Dovecot and answers the first APPEND of a run
# "NO [SERVERBUG] injected" without passing it on (Dovecot itself refuses
# nothing a Maildir can hold: an empty file, the message it used to
# refuse, is no longer sent; see maildir_empty.sh). Two runs through the
# proxy; after each:
#  - the run exits with status 1;
#  - the refusal is reported once, naming the file, in the server's words;
#  - the near side holds 4 messages and the server 3, each Message-ID
#    once on each side: what the batch appended is recorded, nothing is
#    copied twice in either direction;
#  - the second run sends exactly one APPEND (the refused message, tried
#    again once).
# Then a run straight to Dovecot exits 0 with 4 messages on each side,
# and a dry run plans nothing.
# The server and the proxy are stopped and the directory removed however
# the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the server running, for debugging.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/setup.bash
tool_path PROXY faultproxy

proxy_pid=
cleanup_more() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
}

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

cat >"$TMP/sync.rc.in" <<RC
SyncState $TMP/state/

IMAPAccount alice
Host 127.0.0.1
Port @PORT@
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

# run NAME PORT: one sync with the protocol log through PORT; status in
# $status.
run() {
	sed "s/@PORT@/$2/" "$TMP/sync.rc.in" >"$TMP/sync.rc"
	timeout 120 "$BIN" -D -c "$TMP/sync.rc" local >"$TMP/$1.out" \
		2>"$TMP/$1.err"
	status=$?
}

# proxied NAME: run NAME through a faultproxy that refuses the first
# APPEND; the proxy is stopped after it.
proxied() {
	rm -f "$TMP/proxy.port"
	"$PROXY" --to "127.0.0.1:$IMAP_PORT" --port-file "$TMP/proxy.port" \
	    --report "$TMP/$1.report" --fault no --only APPEND --at 1 \
	    --max-seconds 120 2>"$TMP/$1.proxy" &
	proxy_pid=$!
	run "$1" "$(port_from "$TMP/proxy.port")"
	kill "$proxy_pid" 2>/dev/null
	wait "$proxy_pid" 2>/dev/null
	proxy_pid=
}

expected_ids=$(printf '<%s@refused.test>\n' four one three two)
for r in 1 2; do
	proxied "run$r"
	expect_eq "run $r: the proxy refused an APPEND" 1 \
		"$(grep -c '^fired=1' "$TMP/run$r.report")"
	expect_eq "run $r: exit status" 1 "$status"
	expect_eq "run $r: the refusal reported once, by file name" 1 \
		"$(grep -c 'error: local:INBOX: near message new/100[1-4]\.[a-z]*,U=[0-9]*\(:2,S\)\? not copied: .*APPEND refused: NO' "$TMP/run$r.err")"
	expect_eq "run $r: in the server's words" 1 \
		"$(grep -c 'NO \[SERVERBUG\] injected' "$TMP/run$r.err")"
	expect_eq "run $r: the mailbox's one-line summary" 1 \
		"$(grep -c 'error: local:INBOX: 1 message could not be copied in this run' "$TMP/run$r.err")"
	expect_eq "run $r: no other error" 0 \
		"$(grep -v -e 'SERVERBUG' -e 'could not be copied in this run' "$TMP/run$r.err" | grep -c 'error')"
	expect_eq "run $r: messages near" 4 "$(count "$N/INBOX")"
	expect_eq "run $r: messages on the server" 3 "$(count "$A")"
	expect_eq "run $r: Message-IDs near, each once" "$expected_ids" \
		"$(ids "$N/INBOX")"
	expect_eq "run $r: Message-IDs on the server, each once" "" \
		"$(ids "$A" | uniq -d)"
	expect_eq "run $r: Message-IDs on the server, all known" 3 \
		"$(ids "$A" | grep -c -F -x -f <(echo "$expected_ids"))"
done
expect_eq "run 2: one APPEND, the refused message's" 1 \
	"$(grep -c '>> [A-Z0-9]* APPEND ' "$TMP/run2.out")"
expect_eq "run 2: the same message refused as in run 1" \
	"$(grep -o 'near message [^ ]*' "$TMP/run1.err")" \
	"$(grep -o 'near message [^ ]*' "$TMP/run2.err")"

# Straight to the server: it goes, and the pair settles.
run run3 "$IMAP_PORT"
expect_eq "run 3: exit status" 0 "$status"
expect_eq "run 3: one APPEND" 1 "$(grep -c '>> [A-Z0-9]* APPEND ' "$TMP/run3.out")"
expect_eq "run 3: messages near" 4 "$(count "$N/INBOX")"
expect_eq "run 3: messages on the server" 4 "$(count "$A")"
expect_eq "run 3: Message-IDs on the server" "$expected_ids" "$(ids "$A")"
timeout 60 "$BIN" --dry-run -c "$TMP/sync.rc" local >"$TMP/dry.out" 2>&1
expect_eq "dry run: nothing to do" 1 \
	"$(grep -c 'local:INBOX: dry run: nothing to do' "$TMP/dry.out")"

echo "imap_refused: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
