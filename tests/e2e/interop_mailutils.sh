#!/bin/bash
# A smaller interoperability run against GNU mailutils imap4d
# (scripts/test-server-mailutils.sh), a server with known bugs: it drops
# the flags of APPEND, hides from a session what that session appended,
# refuses APPEND to an INBOX never selected. Flags therefore cannot be
# required to agree; what is required is that twinbox never loses or
# duplicates a message:
#  - initial sync IMAP -> Maildir of gen-mail's corpus: every message,
#    once, on both sides;
#  - a re-run and a dry run change nothing;
#  - changes on both sides (new messages, flags, a deletion each side with
#    Expunge Both), then three runs: after each, both sides hold exactly
#    the expected messages (by Message-ID, per folder), none twice, and
#    the last two have nothing to do.
# Run from the top of the tree; tests/run-all.sh runs it with sh.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
KIND=mailutils
export KIND
# shellcheck source=tests/e2e/interop_lib.bash
. "$(dirname "$0")/interop_lib.bash"

start_server "$KSERVER" "$TMP/srv" alice bob carol
. "$TMP/srv/server.env"
PORT=$IMAP_PORT
PREFIX=
SEP=/
U=alice$LOGIN_SUFFIX
bash "$KSERVER" populate "$TMP/srv" alice 30 6 >"$TMP/populate.out" 2>&1 ||
	{ echo "FAIL: populate:" >&2; cat "$TMP/populate.out" >&2; exit 1; }
FOLDERS="INBOX Entwürfe Archive Sent Lists Lists/dev"
N=$TMP/near
cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

IMAPAccount alice
Host 127.0.0.1
Port $IMAPS_PORT
User $U
Pass secret
TLSType IMAPS
CertificateFile $CA_FILE

IMAPStore far
Account alice

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
RC
mkdir -p "$TMP/state" "$N"

ids() {
	awk '{ print $1 }'
}

# check_ids WHAT: per folder, the same Message-IDs on both sides, none
# twice, and all together exactly $expected.
check_ids() {
	local f s n all=
	for f in $FOLDERS; do
		s=$(srv_folder_list "$PORT" "$U" "$f" | ids)
		n=$(near_list "$N/$f" | ids)
		expect_eq "$1: $f holds the same messages on both sides" "$s" "$n"
		all="$all$s
"
	done
	expect_eq "$1: no message twice" "" "$(printf '%s' "$all" | dups)"
	expect_eq "$1: nothing lost, nothing added" \
		"$(printf '%s\n' $expected | sort | tr '\n' ' ')" \
		"$(printf '%s' "$all" | awk 'NF' | sort | tr '\n' ' ')"
}

expected=$(for f in $FOLDERS; do srv_folder_list "$PORT" "$U" "$f"; done | ids)
expect_eq "populated" 30 "$(printf '%s\n' $expected | wc -l)"
run first local
check_ids "initial sync"
run again local
check_ids "re-run"
run dry local --dry-run
expect_eq "a dry run plans nothing" "" \
	"$(grep -v -e 'dry run: nothing to do$' "$TMP/dry.out")"

# Unseen messages sit in new/; a flag change moves one to cur/.
inbox_file=$(find "$N/INBOX/cur" "$N/INBOX/new" -type f | sort | head -1)
mv "$inbox_file" "$N/INBOX/cur/$(basename "${inbox_file%%:2,*}"):2,FS"
mkmsg "$N/Sent/new/1700000000.near1.host" near1
mkmsg "$N/INBOX/new/1700000001.near2.host" near2
victim=$(find "$N/Archive/cur" "$N/Archive/new" -type f | sort | head -1)
victim_id=$(grep -m1 -i '^Message-ID:' "$victim" | grep -o '<[^>]*>')
rm "$victim"
mkmsg "$TMP/far1.eml" far1
far_victim=$(printf 'EXAMINE Lists/dev\nFETCH 1 (BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\n' |
	"$IMAPC" "$PORT" "$U" secret | grep '^\* 1 FETCH' | grep -o '<[^>]*>')
printf '@append Lists %s ()\nSELECT Sent\nSTORE 1 +FLAGS (\\Answered)\nSELECT Lists/dev\nSTORE 1 +FLAGS (\\Deleted)\nEXPUNGE\n' \
	"$TMP/far1.eml" | "$IMAPC" "$PORT" "$U" secret >"$TMP/far.out" 2>&1 ||
	fail "far changes" "$(tail -3 "$TMP/far.out")"
expected=$(printf '%s\n' $expected "<near1@interop.test>" \
	"<near2@interop.test>" "<far1@interop.test>" |
	grep -vxF -e "$victim_id" -e "$far_victim")
for r in second third fourth; do
	run "$r" local
	check_ids "changes on both sides, $r run"
done
expect_eq "the runs after that have nothing to do" "" \
	"$(cat "$TMP/third.out" "$TMP/fourth.out" | grep -v 'up to date$')"

echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
