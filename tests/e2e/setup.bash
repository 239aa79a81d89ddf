# shellcheck shell=bash
# The start shared by the end-to-end scripts that run the binary against a
# private server (sourced from the top of the tree, after `set -u`):
#  - TEST_PASSWORD and the TEST_SERVER_* settings of the caller's
#    environment are dropped, so that every server starts as the script
#    says;
#  - SERVER (scripts/test-server.sh), BUILD (default build) and BIN, the
#    binary under test as an absolute path (TWINBOX_BIN overrides);
#    abs_path PATH prints PATH made absolute;
#  - tool_path VAR NAME: VAR set to BUILD/tests/tools/NAME as an absolute
#    path, or the script fails and exits 1 when that tool is not built;
#  - TMP, a new directory that the servers' unprivileged processes can
#    enter;
#  - the counting checks of checks.bash;
#  - a cleanup on exit: cleanup_more first, when the script defines it
#    (to stop what else it started), then a stop of every server that
#    start_server started, then TMP removed. KEEP=1 leaves it all, for
#    debugging. INT and TERM exit 1, through the cleanup;
#  - start_server SCRIPT DIR [USER...]: SCRIPT's server started in DIR
#    (test-server.sh and its kin; the environment's TEST_SERVER_* apply),
#    its output in TMP/start-NAME.out (NAME the last part of DIR), or the
#    script fails and exits 1;
#  - start_dovecot DIR [USER...]: start_server for a Dovecot, then its
#    DIR/server.env loaded;
#  - rc_maildir_pair FAR NEAR [INTERVAL] (below), and binary_has_inotify:
#    whether the binary under test watches Maildir folders with inotify;
#    inotify_watches PID: how many directories process PID watches with
#    inotify now (Linux's /proc/PID/fdinfo), what a script waits on when
#    it needs a watch in place, which the log cannot tell;
#  - rc_imap_account NAME [USER [PASS]]: the sync.rc lines of an
#    IMAPAccount NAME on the Dovecot start_dovecot started (127.0.0.1,
#    IMAP_PORT, no TLS), USER (default NAME) logging in by PLAIN with PASS
#    (default secret); no blank line after them;
#  - mkbox DIR: an empty Maildir folder;
#  - message_ids DIR DOTTED: "folder id" for every message file under the
#    Maildir tree DIR, sorted: id is the local part of its Message-ID,
#    folder its directory below DIR (INBOX for DIR itself; DOTTED=1 drops
#    the leading dot of Dovecot's layout, .Work for Work);
#  - new_user NAME TREE: the Maildir of a Dovecot user made at start and
#    not used before becomes a copy of TREE;
#  - crash_sweep MAX FRESH CHECK: a run killed at every step N
#    (TWINBOX_CRASH_AFTER=N, N from 1 until a run ends by itself, at most
#    MAX), each on a new case that `FRESH "crash N"` prepares (setting RC;
#    non-zero ends the sweep), then run again without the variable, which
#    must exit 0, and `CHECK "kill at step N"` checks the result. Needs the
#    script's `twinbox RC OUT`, which prints the exit status; sets SWEPT to
#    the number of steps killed at.

unset TEST_PASSWORD TEST_SERVER_CERT TEST_SERVER_COMPRESS TEST_SERVER_NOTIFY \
	TEST_SERVER_CAPS TEST_SERVER_SEPARATOR TEST_SERVER_PORTS TEST_SERVER_WAIT \
	TEST_SERVER_AUTH_MECHS TEST_SERVER_CLIENT_CERT TEST_SERVER_MAX_USERIP

abs_path() {
	case "$1" in
	/*) echo "$1" ;;
	*) echo "$PWD/$1" ;;
	esac
}

tool_path() {
	printf -v "$1" '%s' "$(abs_path "$BUILD/tests/tools/$2")"
	if [ ! -x "${!1}" ]; then
		echo "FAIL: ${!1} is missing (make build-all builds it)" >&2
		exit 1
	fi
}

SERVER=scripts/test-server.sh
BUILD=${BUILD:-build}
BIN=$(abs_path "${TWINBOX_BIN:-$BUILD/twinbox}")
TMP=$(mktemp -d) || exit 1
chmod 755 "$TMP"

. tests/e2e/checks.bash

# The servers to stop, as "SCRIPT DIR" pairs: script i stops dir i.
stop_scripts=()
stop_dirs=()

cleanup() {
	local i
	if declare -F cleanup_more >/dev/null; then
		cleanup_more
	fi
	for i in "${!stop_dirs[@]}"; do
		timeout 60 bash "${stop_scripts[i]}" stop "${stop_dirs[i]}" \
			>/dev/null 2>&1
	done
	rm -rf "$TMP"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT
trap 'exit 1' INT TERM

start_server() {
	local script=$1 dir=$2 out=$TMP/start-${2##*/}.out
	shift 2
	# Known before the start: an interrupted start is stopped too.
	stop_scripts+=("$script")
	stop_dirs+=("$dir")
	if ! bash "$script" start "$dir" "$@" >"$out" 2>&1; then
		echo "FAIL: cannot start $script:" >&2
		cat "$out" >&2
		exit 1
	fi
}

start_dovecot() {
	start_server "$SERVER" "$@"
	# shellcheck source=/dev/null
	. "$1/server.env"
}

rc_imap_account() {
	cat <<RC
IMAPAccount $1
Host 127.0.0.1
Port $IMAP_PORT
User ${2:-$1}
Pass ${3:-secret}
TLSType None
AuthMechs PLAIN
RC
}

mkbox() {
	mkdir -p "$1/cur" "$1/new" "$1/tmp"
}

# rc_maildir_pair FAR NEAR [INTERVAL]: a configuration whose Channel m
# pairs the Maildir stores a (under FAR) and b (under NEAR), INBOX only,
# creating the near folder; WatchInterval INTERVAL, by default 3600, so
# that in watch mode only inotify makes a sync happen.
rc_maildir_pair() {
	cat <<RC
SyncState *

MaildirStore a
Path $1/
Inbox $1/INBOX

MaildirStore b
Path $2/
Inbox $2/INBOX

Channel m
Far :a:
Near :b:
Create Near
WatchInterval ${3:-3600}
RC
}

# binary_has_inotify: whether BIN watches Maildir folders with inotify
# (watch_fs.h): on Linux, unless it was built with COMPAT=portable, which
# the .flags of its build directory tell; elsewhere never.
binary_has_inotify() {
	[ "$(uname -s)" = Linux ] || return 1
	! grep -q -e '-DTW_COMPAT_PORTABLE' "$(dirname "$BIN")/.flags" \
		2>/dev/null
}

inotify_watches() {
	cat "/proc/$1/fdinfo/"* 2>/dev/null | grep -c '^inotify wd:'
}

message_ids() {
	local f box
	find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) |
	    while IFS= read -r f; do
		box=${f%/*/*}
		box=${box#"$1"}
		box=${box#/}
		[ "$2" = 1 ] && box=${box#.}
		printf '%s %s\n' "${box:-INBOX}" "$(sed -n \
		    's/^Message-ID: <\([^@]*\)@.*>\r\{0,1\}$/\1/p' "$f")"
	    done | sort
}

new_user() {
	[ ! -e "$MAIL_DIR/$1" ] || return 1
	cp -a "$2" "$MAIL_DIR/$1" && chown -R "$MAIL_OWNER" "$MAIL_DIR/$1"
}

# port_from FILE: the port a helper (faultproxy, relay) writes to FILE
# once it listens, waited for up to 20 s; nothing when none came.
port_from() {
	for _ in $(seq 1000); do
		[ -s "$1" ] && break
		sleep 0.02
	done
	cat "$1" 2>/dev/null
}

crash_sweep() {
	local fresh=$2 check=$3 n=1 st
	SWEPT=0
	while [ $n -le "$1" ]; do
		"$fresh" "crash $n" || return
		st=$(TWINBOX_CRASH_AFTER=$n twinbox "$RC" "$TMP/crash.out")
		if [ "$st" != 137 ]; then
			expect_eq "run past the last step ($n) exits 0" 0 "$st"
			SWEPT=$((n - 1))
			return
		fi
		st=$(twinbox "$RC" "$TMP/resume.out")
		expect_eq "resume after a kill at step $n exits 0" 0 "$st"
		[ "$st" = 0 ] || cat "$TMP/resume.out" >&2
		"$check" "kill at step $n"
		n=$((n + 1))
	done
}
