# shellcheck shell=bash
# The start and the helpers of the interoperability tests (sourced by
# interop.bash and interop_mailutils.sh, with KIND set to the server's
# kind: dovecot, courier, cyrus or mailutils):
#  - setup.bash's TMP, BIN, SERVER, start_server (the cleanup stops every
#    instance it started and removes TMP) and the counting checks;
#    KSERVER, the kind's test-server script; IMAPC, tests/tools/imapc;
#  - after PORT, PREFIX and SEP are set from server.env: sname, srv_list,
#    srv_folder_list (the server's messages as "MESSAGE-ID FLAGS" lines),
#    near_list (the same for a Maildir folder), hashes, dups, run,
#    compare_all, first_msg, expunge_uid, mkmsg.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
. tests/e2e/setup.bash
IMAPC=$(abs_path "$BUILD/tests/tools/imapc")
export IMAPC
# KSERVER is for the scripts that source this file.
# shellcheck disable=SC2034
case $KIND in
dovecot) KSERVER=scripts/test-server.sh ;;
*) KSERVER=scripts/test-server-$KIND.sh ;;
esac
NAME=interop_$KIND.sh
export NAME

[ -x "$IMAPC" ] || { echo "FAIL: $IMAPC is missing (make build-all)" >&2; exit 1; }

# ---- the two sides as lists ----------------------------------------------

# The server's name of a folder ("Lists/dev"; non-ASCII in modified UTF-7).
sname() {
	local f=$1 p=$2 s=$3
	[ "$f" = INBOX ] && { echo INBOX; return; }
	printf '%s%s\n' "$p" "$(printf '%s' "$f" | tr / "$s")"
}

# srv_list PORT USER FOLDER [PREFIX SEP]: "MESSAGE-ID FLAGS" per message,
# sorted, flags as Maildir letters (DFRST).
srv_list() {
	local box
	box=$(sname "$3" "${4-$PREFIX}" "${5-$SEP}")
	printf 'EXAMINE "%s"\nUID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\n' \
		"$box" | "$IMAPC" "$1" "$2" secret 2>&1 | awk '
	/^\* [0-9]+ FETCH/ {
		f = ""
		if (match($0, /FLAGS \([^)]*\)/)) {
			fl = substr($0, RSTART, RLENGTH)
			if (fl ~ /\\Draft/) f = f "D"
			if (fl ~ /\\Flagged/) f = f "F"
			if (fl ~ /\\Answered/) f = f "R"
			if (fl ~ /\\Seen/) f = f "S"
			if (fl ~ /\\Deleted/) f = f "T"
		}
		id = "-"
		if (match($0, /<[^>]*>/)) id = substr($0, RSTART, RLENGTH)
		print id, f
	}
	/^imapc: / { print "ERROR " $0 }' | sort
}

# near_list DIR: the same for a Maildir folder.
near_list() {
	local f id info
	for f in "$1"/cur/* "$1"/new/*; do
		[ -f "$f" ] || continue
		id=$(grep -m1 -i '^message-id:' "$f" | grep -o '<[^>]*>')
		info=
		case "$f" in *:2,*) info=${f##*:2,} ;; esac
		echo "${id:--} $(printf '%s' "$info" | tr -cd DFRST)"
	done | sort
}

# Content of a Maildir folder, CRs dropped: a sorted list of hashes.
hashes() {
	local f
	for f in "$1"/cur/* "$1"/new/*; do
		[ -f "$f" ] && tr -d '\r' <"$f" | sha256sum | cut -c1-64
	done | sort
}

dups() {
	awk '{ print $1 }' | sort | uniq -d | tr '\n' ' '
}

run() {
	local name=$1
	shift
	if timeout 120 "$BIN" -c "$TMP/sync.rc" "$@" >"$TMP/$name.out" 2>&1
	then
		pass "run $name"
	else
		fail "run $name (exit $?)" "$(tail -20 "$TMP/$name.out")"
	fi
}

mfolder() {
	case $1 in
	Entwürfe) echo 'Entw&APw-rfe' ;;
	*) echo "$1" ;;
	esac
}
# srv_list takes the folder as the server names it, modified UTF-7 and all.
srv_folder_list() {
	srv_list "$1" "$2" "$(mfolder "$3")" "${4-$PREFIX}" "${5-$SEP}"
}
# compare_all USER NEAR_ROOT FOLDER...: server and Maildir list the same.
compare_all() {
	local user=$1 root=$2 f
	shift 2
	for f in "$@"; do
		expect_eq "$f: server and Maildir hold the same messages and flags" \
			"$(srv_folder_list "$PORT" "$user" "$f")" \
			"$(near_list "$root/$f")"
	done
}

# first_msg PORT USER MAILBOX: "UID MESSAGE-ID" of its first message.
first_msg() {
	printf 'EXAMINE "%s"\nFETCH 1 (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])\n' \
		"$3" | "$IMAPC" "$1" "$2" secret 2>&1 | awk '/^\* 1 FETCH/ {
		match($0, /UID [0-9]+/)
		uid = substr($0, RSTART + 4, RLENGTH - 4)
		match($0, /<[^>]*>/)
		print uid, substr($0, RSTART, RLENGTH)
	}'
}

# expunge_uid PORT USER MAILBOX UID
expunge_uid() {
	printf 'SELECT "%s"\nUID STORE %s +FLAGS (\\Deleted)\nEXPUNGE\n' "$3" "$4" |
		"$IMAPC" "$1" "$2" secret
}

mkmsg() {
	printf 'From: t@interop.test\nSubject: %s\nMessage-ID: <%s@interop.test>\n\nbody of %s\n' \
		"$2" "$2" "$2" >"$1"
}
