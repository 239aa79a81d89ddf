# shellcheck shell=bash
# The scenarios that matter, run by the binary against one kind of server
# (sourced by interop_KIND.sh after KIND is set to dovecot, courier or
# cyrus; each server from its scripts/test-server*.sh, private, on
# 127.0.0.1):
#  1. initial sync IMAP -> Maildir of gen-mail's corpus (APPENDed to the
#     server): every message byte for byte (line ends aside) with its flags;
#  2. a dry run and a verbose run after it plan and do nothing;
#  3. changes on both sides (new messages, flags, deletions with Expunge
#     Both), then a run: both sides equal, every change carried over;
#  4. a new folder on each side, created on the other;
#  5. IMAP <-> IMAP between this server and a Dovecot (bob on the same
#     Dovecot for KIND=dovecot): the whole account, then changes on both
#     sides, then a run with nothing to do, and (but Courier, which lacks
#     LIST-STATUS and CONDSTORE) one more that opens no mailbox;
#  6. crash sweep: the initial sync of a small account and then a two-way
#     sync killed at every step N (TWINBOX_CRASH_AFTER=N) until a run ends
#     by itself; after each kill a clean run leaves both sides equal, with
#     every message once and nothing lost.
# Both sides are compared as lists of (Message-ID, flags) per folder; the
# server's list comes from tests/tools/imapc, never from the binary.
# The servers are stopped and the directory removed however the test ends.
# KEEP=1 leaves the directory and the servers running, for debugging.
# shellcheck source=tests/e2e/interop_lib.bash
. "$(dirname "${BASH_SOURCE[0]}")/interop_lib.bash"


[ "$KIND" = courier ] && authrc_before=$(cksum </etc/courier/authdaemonrc)
start_server "$KSERVER" "$TMP/srv" alice bob carol
. "$TMP/srv/server.env"
PORT=$IMAP_PORT
PREFIX=${NS_PREFIX:-}
SEP=${NS_SEP:-.}
CA=$CA_FILE
if [ "$KIND" = dovecot ]; then
	DPORT=$IMAP_PORT
else
	start_server "$SERVER" "$TMP/dove" alice bob carol
	DPORT=$(. "$TMP/dove/server.env" && echo "$IMAP_PORT")
fi
bash "$KSERVER" populate "$TMP/srv" alice 60 6 >"$TMP/populate.out" 2>&1 ||
	{ echo "FAIL: populate:" >&2; cat "$TMP/populate.out" >&2; exit 1; }

FOLDERS="INBOX Entwürfe Archive Sent Lists Lists/dev"

N=$TMP/near
cat >"$TMP/sync.rc" <<RC
SyncState $TMP/state/

IMAPAccount alice
Host 127.0.0.1
Port $IMAP_PORT
User alice
Pass secret
TLSType STARTTLS
CertificateFile $CA

IMAPAccount carol
Host 127.0.0.1
Port $IMAP_PORT
User carol
Pass secret
TLSType None
AuthMechs LOGIN

IMAPAccount dove
Host 127.0.0.1
Port $DPORT
User bob
Pass secret
TLSType None
AuthMechs LOGIN

IMAPStore far
Account alice

IMAPStore carolstore
Account carol

IMAPStore dovestore
Account dove

MaildirStore near
Path $N/
Inbox $N/INBOX
SubFolders Verbatim

MaildirStore cnear
Path $TMP/cnear/
Inbox $TMP/cnear/INBOX
SubFolders Verbatim

Channel local
Far :far:
Near :near:
Patterns *
Create Both
Expunge Both

Channel crash
Far :carolstore:
Near :cnear:
Patterns *
Create Both
Expunge Both

Channel migrate
Far :far:
Near :dovestore:
Patterns *
Create Near
Expunge Both
RC
mkdir -p "$TMP/state" "$N" "$TMP/cnear"

# ---- 1. initial sync ------------------------------------------------------

run first local
sh scripts/gen-mail.sh "$TMP/src" 60 6 >/dev/null
for f in $FOLDERS; do
	case $f in
	INBOX) sdir=$TMP/src ;;
	*) sdir="$TMP/src/.$(mfolder "$f" | tr / .)" ;;
	esac
	expect_eq "$f copied byte for byte" "$(hashes "$sdir")" \
		"$(hashes "$N/$f")"
done
compare_all alice "$N" $FOLDERS
expect_eq "every folder was created" 6 \
	"$(for f in $FOLDERS; do [ -d "$N/$f/cur" ] && echo; done | wc -l)"

# ---- 2. no-op -------------------------------------------------------------

run dry local --dry-run
expect_eq "a dry run after it plans nothing" "" \
	"$(grep -v -e 'dry run: nothing to do$' -e 'logging in as' "$TMP/dry.out")"
run noop local -V
expect_eq "a second run has nothing to do" "" \
	"$(grep -v -e 'up to date$' -e 'logging in as' -e "$NOOP_TOTAL" "$TMP/noop.out")"

# ---- 3. changes on both sides ----------------------------------------------

# Raw UTF-8 in a header: Courier accepts it with an [ALERT].
printf 'From: t@interop.test\nSubject: Gr\303\274\303\237e\nMessage-ID: <near1@interop.test>\n\nbody of near1\n' \
	>"$N/Sent/new/1700000000.near1.host"
inbox_file=$(ls "$N/INBOX/cur" | sort | head -1)
mv "$N/INBOX/cur/$inbox_file" "$N/INBOX/cur/${inbox_file%%:2,*}:2,FS"
victim=$(ls "$N/Archive/cur" | sort | head -1)
victim_id=$(grep -m1 -i '^Message-ID:' "$N/Archive/cur/$victim" | grep -o '<[^>]*>')
rm "$N/Archive/cur/$victim"
mkmsg "$TMP/far1.eml" far1
LISTS=$(sname Lists "$PREFIX" "$SEP")
DEV=$(sname Lists/dev "$PREFIX" "$SEP")
SENT=$(sname Sent "$PREFIX" "$SEP")
read -r far_uid far_victim <<EOF
$(first_msg "$PORT" alice "$DEV")
EOF
"$IMAPC" "$PORT" alice secret >"$TMP/far-changes.out" 2>&1 <<EOF || fail "far changes" "$(tail -3 "$TMP/far-changes.out")"
@append $LISTS $TMP/far1.eml (\\Seen)
SELECT "$SENT"
STORE 1 +FLAGS (\\Answered)
EOF
expunge_uid "$PORT" alice "$DEV" "$far_uid" >>"$TMP/far-changes.out" 2>&1 ||
	fail "far deletion" "$(tail -3 "$TMP/far-changes.out")"
expect_eq "far deletion made" "" \
	"$(srv_list "$PORT" alice Lists/dev | grep -F "$far_victim")"
before=$(for f in $FOLDERS; do near_list "$N/$f"; done | wc -l)

run second local
compare_all alice "$N" $FOLDERS
expect_eq "near message reached the server" "<near1@interop.test> " \
	"$(srv_list "$PORT" alice Sent | grep near1)"
if [ "$KIND" = courier ]; then
	expect_eq "Courier's [ALERT] on an 8-bit header is shown" 1 \
		"$(grep -c "^twinbox: server alert from 127.0.0.1 port $PORT: Your IMAP client does not appear to correctly implement Unicode messages" \
		"$TMP/second.out")"
fi
expect_eq "far message reached the Maildir" "<far1@interop.test> S" \
	"$(near_list "$N/Lists" | grep far1)"
expect_eq "near flags reached the server" "FS" \
	"$(srv_list "$PORT" alice INBOX | grep -F "$(grep -m1 -i '^Message-ID:' \
	"$N/INBOX/cur/${inbox_file%%:2,*}:2,FS" | grep -o '<[^>]*>')" | cut -d' ' -f2)"
expect_eq "far flag reached the Maildir" 1 \
	"$(near_list "$N/Sent" | grep -c ' R')"
expect_eq "near deletion expunged on the server" "" \
	"$(srv_list "$PORT" alice Archive | grep -F "$victim_id")"
expect_eq "far deletion removed from the Maildir" "" \
	"$(near_list "$N/Lists/dev" | grep -F "$far_victim")"
expect_eq "message count: two new, two gone" "$before" \
	"$(for f in $FOLDERS; do near_list "$N/$f"; done | wc -l)"
run third local -V
expect_eq "third run has nothing to do" "" \
	"$(grep -v -e 'up to date$' -e 'logging in as' -e "$NOOP_TOTAL" "$TMP/third.out")"

# ---- 4. a new folder on each side ------------------------------------------

mkdir -p "$N/NewNear/cur" "$N/NewNear/new" "$N/NewNear/tmp"
mkmsg "$N/NewNear/new/1700000002.near2.host" near2
mkmsg "$TMP/far2.eml" far2
NEWFAR=$(sname NewFar "$PREFIX" "$SEP")
printf 'CREATE "%s"\n@append %s %s ()\n' "$NEWFAR" "$NEWFAR" "$TMP/far2.eml" |
	"$IMAPC" "$PORT" alice secret >"$TMP/newfar.out" 2>&1 ||
	fail "far folder made" "$(tail -3 "$TMP/newfar.out")"
run folders local
compare_all alice "$N" NewNear NewFar
expect_eq "near folder on the server" "<near2@interop.test> " \
	"$(srv_list "$PORT" alice NewNear)"
expect_eq "far folder in the Maildir" "<far2@interop.test> " \
	"$(near_list "$N/NewFar")"
FOLDERS="$FOLDERS NewNear NewFar"

# ---- 5. IMAP <-> IMAP --------------------------------------------------------

# Dovecot's names: no prefix, "." as separator.
dove_list() {
	srv_folder_list "$DPORT" bob "$1" "" .
}
compare_imap() {
	local f
	for f in $FOLDERS; do
		expect_eq "$f: $1" "$(srv_folder_list "$PORT" alice "$f")" \
			"$(dove_list "$f")"
	done
}
run migrate migrate
compare_imap "migrated to Dovecot"
mkmsg "$TMP/dove1.eml" dove1
printf '@append INBOX %s (\\Flagged)\n' "$TMP/dove1.eml" |
	"$IMAPC" "$DPORT" bob secret >"$TMP/dove-changes.out" 2>&1 ||
	fail "Dovecot changes" "$(tail -3 "$TMP/dove-changes.out")"
printf 'SELECT "%s"\nSTORE 2 +FLAGS (\\Flagged)\n' "$LISTS" |
	"$IMAPC" "$PORT" alice secret >>"$TMP/dove-changes.out" 2>&1 ||
	fail "$KIND changes" "$(tail -3 "$TMP/dove-changes.out")"
run migrate-changes migrate
compare_imap "equal after changes on both servers"
expect_eq "Dovecot's message reached $KIND" "<dove1@interop.test> F" \
	"$(srv_list "$PORT" alice INBOX | grep dove1)"
run migrate-noop migrate -V
expect_eq "IMAP <-> IMAP re-run has nothing to do" "" \
	"$(grep -v -e 'up to date$' -e 'logging in as' -e "$NOOP_TOTAL" "$TMP/migrate-noop.out")"
# The re-run earned every mark it lacked; where both servers offer
# LIST-STATUS and CONDSTORE (Dovecot, Cyrus; not Courier) the next run
# opens no mailbox at all.
if [ "$KIND" != courier ]; then
	run migrate-skip migrate -D
	expect_eq "IMAP <-> IMAP: an unchanged account is not opened" 0 \
		"$(grep -cE ' >> [^ ]+ (SELECT|EXAMINE) ' "$TMP/migrate-skip.out")"
	expect_eq "IMAP <-> IMAP: statuses from LIST-STATUS on both servers" 2 \
		"$(grep -cE ' >> [^ ]+ LIST .* RETURN \(STATUS ' "$TMP/migrate-skip.out")"
fi

# ---- 6. crash sweep -----------------------------------------------------------

bash "$KSERVER" populate "$TMP/srv" carol 6 3 5 >"$TMP/populate-carol.out" 2>&1 ||
	fail "populate carol" "$(cat "$TMP/populate-carol.out")"
CFOLDERS="INBOX Entwürfe Archive"
C=$TMP/cnear

# check_crash WHAT: both sides equal, nothing twice, the expected IDs.
check_crash() {
	local f s n all=
	for f in $CFOLDERS; do
		s=$(srv_folder_list "$PORT" carol "$f")
		n=$(near_list "$C/$f")
		[ "$s" = "$n" ] || { fail "$1: $f differs" "server: $s
near:   $n"; return; }
		all="$all$s
"
	done
	[ -z "$(printf '%s' "$all" | dups)" ] ||
		{ fail "$1: duplicates" "$(printf '%s' "$all" | dups)"; return; }
	[ "$(printf '%s' "$all" | awk 'NF { print $1 }' | sort | tr '\n' ' ')" = \
		"$(printf '%s\n' $expected | sort | tr '\n' ' ')" ] ||
		{ fail "$1: messages lost or added" "$(printf '%s' "$all")"; return; }
	pass "$1"
}

# The subshell keeps bash's "Killed" notice out of the output.
crash_run() {
	(TWINBOX_CRASH_AFTER=$1 timeout 60 "$BIN" -c "$TMP/sync.rc" crash \
		>"$TMP/crash.out" 2>&1
	 exit $?) 2>/dev/null
}
clean_run() {
	timeout 60 "$BIN" -c "$TMP/sync.rc" crash >"$TMP/clean.out" 2>&1 ||
		fail "clean run after crash $1" "$(tail -5 "$TMP/clean.out")"
}

expected=$(for f in $CFOLDERS; do srv_folder_list "$PORT" carol "$f"; done |
	awk '{ print $1 }')
E2E_QUIET_PASS=1
k=1
while [ $k -le 150 ]; do
	rm -rf "$C" "$TMP/state" && mkdir -p "$TMP/state" "$C"
	crash_run "$k"
	status=$?
	[ $status -eq 0 ] && break
	[ $status -eq 137 ] || { fail "initial sync to be killed at step $k" \
		"exit status $status: $(tail -3 "$TMP/crash.out")"; break; }
	clean_run "$k"
	check_crash "initial sync killed at step $k"
	k=$((k + 1))
done
E2E_QUIET_PASS=0
expect_eq "initial sync sweep reached a run that ended by itself" yes \
	"$([ $k -gt 1 ] && [ $k -le 150 ] && echo yes)"
steps1=$((k - 1))
# Seed 5 puts carol's 6 messages in Entwürfe (5) and Archive (1).
ARCHIVE=$(sname Archive "$PREFIX" "$SEP")
DRAFTS=$(sname 'Entw&APw-rfe' "$PREFIX" "$SEP")
E2E_QUIET_PASS=1
k=1
while [ $k -le 150 ]; do
	i=$k
	mkmsg "$C/INBOX/new/17000001$i.cn$i.host" "cn$i"
	mkmsg "$TMP/cf.eml" "cf$i"
	read -r uid cf <<EOF
$(first_msg "$PORT" carol "$ARCHIVE")
EOF
	printf '@append %s %s (\\Seen)\nSELECT "%s"\nSTORE 1 FLAGS (\\Flagged)\n' \
		"$ARCHIVE" "$TMP/cf.eml" "$DRAFTS" |
		"$IMAPC" "$PORT" carol secret >"$TMP/cf.out" 2>&1 &&
		expunge_uid "$PORT" carol "$ARCHIVE" "$uid" >>"$TMP/cf.out" 2>&1 ||
		fail "carol's changes $k" "$(tail -3 "$TMP/cf.out")"
	expected=$(printf '%s\n' $expected "<cn$i@interop.test>" \
		"<cf$i@interop.test>" | grep -vxF "$cf")
	crash_run "$k"
	status=$?
	if [ $status -eq 0 ]; then
		check_crash "two-way sync that ended by itself at $k"
		break
	fi
	[ $status -eq 137 ] || { fail "two-way sync to be killed at step $k" \
		"exit status $status: $(tail -3 "$TMP/crash.out")"; break; }
	clean_run "$k"
	check_crash "two-way sync killed at step $k"
	k=$((k + 1))
done
E2E_QUIET_PASS=0
expect_eq "two-way sweep reached a run that ended by itself" yes \
	"$([ $k -gt 1 ] && [ $k -le 150 ] && echo yes)"
echo "crash sweeps: $steps1 and $((k - 1)) kills"

# ---- 7. Courier: the system's files come back ----------------------------------

# Also after a run killed before its stop: the next start restores them.
if [ "$KIND" = courier ]; then
	bash "$KSERVER" stop "$TMP/srv" >/dev/null 2>&1
	expect_eq "stop restores /etc/courier/authdaemonrc" "$authrc_before" \
		"$(cksum </etc/courier/authdaemonrc)"
	start_server "$KSERVER" "$TMP/srv2" alice bob carol
	kill -KILL "$(cat "$TMP/srv2/imapd.pid")" "$(cat "$TMP/srv2/imapds.pid")"
	start_server "$KSERVER" "$TMP/srv3" alice bob carol
	expect_eq "a start after a killed run restores first" 1 \
		"$(grep -c 'restoring the system' "$TMP/start-srv3.out")"
	bash "$KSERVER" stop "$TMP/srv3" >/dev/null 2>&1
	bash "$KSERVER" stop "$TMP/srv2" >/dev/null 2>&1
	expect_eq "then stop restores /etc/courier/authdaemonrc" \
		"$authrc_before" "$(cksum </etc/courier/authdaemonrc)"
fi

echo "$NAME: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
