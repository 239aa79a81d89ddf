#!/bin/bash
# Expunges on the server, read from the -D protocol log, against a private
# Dovecot on an IMAP <-> Maildir channel with Expunge Both.
#  1. After a first sync of four messages, one near message is marked
#     \Deleted (T), another near file is removed and a third gets \Flagged.
#     The next run marks both far messages \Deleted with one UID STORE,
#     sends one UID EXPUNGE and never sends the mark twice; and the
#     \Flagged STORE, the \Deleted STORE and the UID EXPUNGE go out as one
#     burst: all three are in the log before the first answer to any of
#     them. Both messages are gone from both sides, the flag is on the
#     server, and a third run has nothing to do. The same log shows the
#     other waits that are gone: no CAPABILITY command (Dovecot lists its
#     capabilities in the greeting and in the login's OK), and the LOGOUT
#     is its last protocol line (its answer is not waited for).
#  2. Through tests/tools/faultproxy, the server's answer to one command
#     of that burst is replaced by NO: the run fails (exit 1) naming that
#     command alone, the other two commands of the burst take effect on
#     the server all the same, and one clean run then converges. NO to the
#     \Flagged STORE (the first): both messages are expunged, the flag is
#     missing until the clean run. NO to the \Deleted STORE (the middle):
#     the flag is set, both messages stay until the clean run, and the
#     error says so: not marked, left on the server, tried again by the
#     next run, and what to check if the server keeps refusing.
#  3. A Dovecot without UIDPLUS: the \Deleted STORE and the UID SEARCH
#     DELETED that guards the plain EXPUNGE go out together, the EXPUNGE
#     only after the search's answer; the same result.
# The servers are stopped and the directory removed however the test ends.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
# KEEP=1 leaves the directory and the servers running, for debugging.
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

# Dovecot's default list without UIDPLUS.
NO_UIDPLUS_CAPS="IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT \
SORT=DISPLAY THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND \
URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE LIST-EXTENDED I18NLEVEL=1 \
CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN CONTEXT=SEARCH LIST-STATUS \
BINARY MOVE SPECIAL-USE LITERAL+"

start_dovecot "$TMP/srv" alice bob carol dave
TEST_SERVER_CAPS=$NO_UIDPLUS_CAPS start_server "$SERVER" "$TMP/srv2" erin
PORT2=$(sed -n 's/^IMAP_PORT=//p' "$TMP/srv2/server.env")
MAIL2=$TMP/srv2/mail

# write_rc NAME USER PORT: the channel of user USER through PORT, its
# Maildir in TMP/NAME.
write_rc() {
	mkdir -p "$TMP/$1/INBOX/cur" "$TMP/$1/INBOX/new" "$TMP/$1/INBOX/tmp" \
		"$TMP/$1.state"
	cat >"$TMP/$1.rc" <<RC
SyncState $TMP/$1.state/

IMAPAccount acct
Host 127.0.0.1
Port $3
User $2
Pass secret
TLSType None
AuthMechs PLAIN

IMAPStore far
Account acct

MaildirStore near
Path $TMP/$1/
Inbox $TMP/$1/INBOX
SubFolders Verbatim

Channel local
Far :far:
Near :near:
Patterns INBOX
Expunge Both
RC
}

count() {
	find "$1/cur" "$1/new" -type f 2>/dev/null | wc -l
}

# run NAME LABEL [STATUS]: a run of NAME's channel, its output in
# TMP/NAME.LABEL.out; STATUS is the exit status wanted (default 0).
run() {
	timeout 120 "$BIN" -D -c "$TMP/$1.rc" local >"$TMP/$1.$2.out" \
		2>&1
	expect_eq "$1 $2: exit status" "${3:-0}" "$?"
}

# setup NAME USER PORT: four messages near, synced, then the changes:
# message 1 marked deleted, message 2 removed, message 3 flagged.
setup() {
	local n=$TMP/$1/INBOX i f
	write_rc "$@"
	for i in 1 2 3 4; do
		printf 'Subject: %s\nMessage-ID: <%s@expunge.test>\n\nBody %s.\n' \
			"$i" "$i" "$i" >"$n/cur/100$i.m$i:2,S"
	done
	run "$1" first
	f=$(find "$n/cur" -name '1001.m1*')
	mv "$f" "${f%:2,*}:2,ST"
	rm "$(find "$n/cur" -name '1002.m2*')"
	f=$(find "$n/cur" -name '1003.m3*')
	mv "$f" "${f%:2,*}:2,FS"
}

# line_of FILE PATTERN: the number of the first line matching PATTERN.
line_of() {
	grep -n -m 1 -e "$2" "$1" | cut -d: -f1
}

# flagged_on_server DIR: 1 if message 3 carries F in the server's Maildir.
flagged_on_server() {
	find "$1/cur" "$1/new" -type f -name '*:2,*F*' -exec grep -l '<3@' {} + |
		wc -l
}

# ---- 1. the burst -------------------------------------------------------

setup alice alice "$IMAP_PORT"
A=$MAIL_DIR/alice
expect_eq "first: messages on the server" 4 "$(count "$A")"
run alice second
out=$TMP/alice.second.out
expect_eq "second: one STORE of \\Deleted" 1 \
	"$(grep -c '>> [A-Z0-9]* UID STORE .*+FLAGS.SILENT (\\Deleted)' "$out")"
expect_eq "second: both UIDs in it" 1 \
	"$(grep -c '>> [A-Z0-9]* UID STORE 1:2 +FLAGS.SILENT (\\Deleted)' "$out")"
expect_eq "second: one UID EXPUNGE" 1 \
	"$(grep -c '>> [A-Z0-9]* UID EXPUNGE ' "$out")"
flag=$(line_of "$out" '>> [A-Z0-9]* UID STORE 3 +FLAGS.SILENT (\\Flagged)')
mark=$(line_of "$out" '>> [A-Z0-9]* UID STORE 1:2 +FLAGS.SILENT')
expunge=$(line_of "$out" '>> [A-Z0-9]* UID EXPUNGE 1:2')
answer=$(awk -v from="${flag:-0}" 'NR > from && / << /' "$out" |
	head -1 | grep -c .)
first_answer=$(awk -v from="${flag:-0}" 'NR > from && / << / { print NR; exit }' \
	"$out")
expect_eq "second: \\Flagged, \\Deleted, EXPUNGE sent in that order" 1 \
	"$([ -n "$flag" ] && [ -n "$mark" ] && [ -n "$expunge" ] &&
	[ "$flag" -lt "$mark" ] && [ "$mark" -lt "$expunge" ] && echo 1)"
expect_eq "second: all three sent before the first answer" 1 \
	"$([ "$answer" = 1 ] && [ -n "$expunge" ] &&
	[ "$expunge" -lt "$first_answer" ] && echo 1)"
expect_eq "second: no CAPABILITY command" 0 \
	"$(grep -c '>> [A-Z0-9]* CAPABILITY' "$out")"
expect_eq "second: LOGOUT sent last, its answer not read" \
	">> LOGOUT" "$(grep -E '^debug: [^ ]+ (<<|>>) ' "$out" | tail -n 1 |
	sed -E 's/^debug: [^ ]+ (<<|>>) [A-Z0-9]+ /\1 /')"
expect_eq "second: messages near" 2 "$(count "$TMP/alice/INBOX")"
expect_eq "second: messages on the server" 2 "$(count "$A")"
expect_eq "second: message 3 flagged on the server" 1 "$(flagged_on_server "$A")"
run alice third
expect_eq "third: no STORE" 0 "$(grep -c 'UID STORE' "$TMP/alice.third.out")"
expect_eq "third: up to date" 1 \
	"$(grep -c 'local:INBOX: up to date' "$TMP/alice.third.out")"

# ---- 2. NO to one command of the burst ------------------------------------

# with_proxy NAME K: NAME's second run through a proxy that answers NO to
# the K-th UID STORE of the session.
with_proxy() {
	local port
	rm -f "$TMP/proxy.port"
	"$PROXY" --to "127.0.0.1:$IMAP_PORT" --port-file "$TMP/proxy.port" \
		--report "$TMP/$1.report" --fault no --only "UID STORE" --at "$2" \
		--max-seconds 60 2>"$TMP/$1.proxy.err" &
	proxy_pid=$!
	port=$(port_from "$TMP/proxy.port")
	sed "s/^Port .*/Port $port/" "$TMP/$1.rc" \
		>"$TMP/$1.proxy.rc"
	timeout 120 "$BIN" -D -c "$TMP/$1.proxy.rc" local \
		>"$TMP/$1.second.out" 2>&1
	expect_eq "$1 second (NO to UID STORE $2): exit status" 1 "$?"
	kill "$proxy_pid" 2>/dev/null
	wait "$proxy_pid" 2>/dev/null
	proxy_pid=
	expect_eq "$1: the fault fired" 1 \
		"$(sed -n 's/^fired=//p' "$TMP/$1.report")"
}

# refused NAME K REFUSED OTHER: setup and the second run of user NAME with
# a NO to its K-th UID STORE; the error names the command REFUSED (a grep
# pattern) with the injected answer, and no error mentions OTHER.
refused() {
	setup "$1" "$1" "$IMAP_PORT"
	with_proxy "$1" "$2"
	expect_eq "$1: the error names the refused STORE" 1 \
		"$(grep -c "error: .*$3: NO \[SERVERBUG\] injected" \
		"$TMP/$1.second.out")"
	expect_eq "$1: no error names the other STORE" 0 \
		"$(grep -c "error: .*$4" "$TMP/$1.second.out")"
}

# converges NAME: one clean run leaves messages 3 and 4 on both sides,
# message 3 flagged on the server, and the next run is up to date.
converges() {
	run "$1" clean
	expect_eq "$1 clean: messages on the server" 2 "$(count "$MAIL_DIR/$1")"
	expect_eq "$1 clean: messages near" 2 "$(count "$TMP/$1/INBOX")"
	expect_eq "$1 clean: message 3 flagged" 1 \
		"$(flagged_on_server "$MAIL_DIR/$1")"
	run "$1" last
	expect_eq "$1 last: up to date" 1 \
		"$(grep -c 'local:INBOX: up to date' "$TMP/$1.last.out")"
}

refused bob 1 'UID STORE 3 +FLAGS.SILENT (\\Flagged)' '(\\Deleted)'
expect_eq "bob: both messages expunged all the same" 2 \
	"$(count "$MAIL_DIR/bob")"
expect_eq "bob: message 3 not flagged yet" 0 \
	"$(flagged_on_server "$MAIL_DIR/bob")"
converges bob

refused carol 2 'UID STORE 1:2 +FLAGS.SILENT (\\Deleted)' '(\\Flagged)'
expect_eq "carol: the error says what happened and what to do" 1 \
	"$(grep -cF "twinbox: error: local:INBOX: imap store 'far' mailbox 'INBOX': UID STORE 1:2 +FLAGS.SILENT (\\Deleted): NO [SERVERBUG] injected; so UIDs 1:2 are not marked \\Deleted and the expunge left them on the server: the next run marks and expunges them again (if the server keeps refusing, check that the account may delete messages in this mailbox)" \
	"$TMP/carol.second.out")"
expect_eq "carol: no other error or warning" 1 \
	"$(grep -c "error\|warning" "$TMP/carol.second.out")"
expect_eq "carol: the UID EXPUNGE was sent" 1 \
	"$(grep -c '>> [A-Z0-9]* UID EXPUNGE 1:2' "$TMP/carol.second.out")"
expect_eq "carol: message 3 flagged" 1 \
	"$(flagged_on_server "$MAIL_DIR/carol")"
expect_eq "carol: no message expunged (none was marked)" 4 \
	"$(count "$MAIL_DIR/carol")"
converges carol

# ---- 3. without UIDPLUS -------------------------------------------------

setup erin erin "$PORT2"
run erin second
out=$TMP/erin.second.out
mark=$(line_of "$out" '>> [A-Z0-9]* UID STORE 1:2 +FLAGS.SILENT (\\Deleted)')
search=$(line_of "$out" '>> [A-Z0-9]* UID SEARCH DELETED')
plain=$(line_of "$out" '>> [A-Z0-9]* EXPUNGE$')
between=$(awk -v a="${mark:-0}" -v b="${search:-0}" \
	'NR > a && NR < b && / << /' "$out" | wc -l)
answered=$(awk -v a="${search:-0}" -v b="${plain:-0}" \
	'NR > a && NR < b && / << T[0-9]* OK Search/' "$out" | wc -l)
expect_eq "erin: no UID EXPUNGE" 0 "$(grep -c 'UID EXPUNGE' "$out")"
expect_eq "erin: the mark and the search sent together" 1 \
	"$([ -n "$mark" ] && [ -n "$search" ] && [ "$mark" -lt "$search" ] &&
	[ "$between" = 0 ] && echo 1)"
expect_eq "erin: EXPUNGE only after the search's answer" 1 \
	"$([ -n "$plain" ] && [ "$answered" = 1 ] && echo 1)"
expect_eq "erin: messages on the server" 2 "$(count "$MAIL2/erin")"
expect_eq "erin: messages near" 2 "$(count "$TMP/erin/INBOX")"
run erin third
expect_eq "erin third: up to date" 1 \
	"$(grep -c 'local:INBOX: up to date' "$TMP/erin.third.out")"

echo "imap_expunge: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
