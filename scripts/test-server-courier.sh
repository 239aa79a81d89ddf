#!/bin/bash
# A private Courier IMAP 5.0 on 127.0.0.1 for the interoperability tests,
# with the interface of test-server.sh:
#
#   test-server-courier.sh start DIR [USER...]      (users: alice bob)
#   test-server-courier.sh stop DIR
#   test-server-courier.sh status DIR               exit 0 running, 3 not
#   test-server-courier.sh adduser DIR USER [PASS]
#   test-server-courier.sh populate DIR USER N FOLDERS [SEED]
#
# Courier's imapd and imaplogin run from the extracted courier-imap package
# (scripts/install-deps.sh --servers), under the system's couriertcpd, on
# two free ports (plain with STARTTLS, and TLS through couriertls). Logins
# go through the system's authdaemond, which reads its module list from
# /etc/courier/authdaemonrc and its users from /etc/courier/userdb.dat:
# start saves those files (and whether authdaemond ran) in
# TWINBOX_COURIER_SAVE (default /var/lib/twinbox-test/courier-system),
# installs its own, and stop puts everything back. A start that finds a
# save left by an interrupted run restores it first. One instance at a
# time: a second start waits for the first to stop. Root only. See
# docs/test-server.md.
set -u

PROG=test-server-courier
HOST=127.0.0.1
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd -P)
WAIT=${TEST_SERVER_WAIT:-10}
SAVE=${TWINBOX_COURIER_SAVE:-/var/lib/twinbox-test/courier-system}
LOCK=$SAVE.lock
ETC=/etc/courier
SYSTEM_FILES="authdaemonrc userdb.dat userdbshadow.dat"
AUTHD_RUN=/run/courier/authdaemon
CAPS="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE THREAD=ORDEREDSUBJECT THREAD=REFERENCES SORT QUOTA IDLE"
# shellcheck source=scripts/test-server-lib.sh
. "$SCRIPT_DIR/test-server-lib.sh"

usage() {
	sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# ---- the system's authdaemond -----------------------------------------

authd_pid() {
	local pid
	pid=$(tr -dc 0-9 2>/dev/null <"$AUTHD_RUN/pid")
	pid_alive "$pid" && echo "$pid"
}

authd_start() {
	local i=0
	mkdir -p "$AUTHD_RUN" && chown courier:courier "$AUTHD_RUN" &&
		chmod 750 "$AUTHD_RUN" || die "$AUTHD_RUN: cannot create"
	/usr/sbin/authdaemond start </dev/null >/dev/null 2>&1 ||
		die "authdaemond would not start"
	while [ ! -S "$AUTHD_RUN/socket" ] || ! authd_pid >/dev/null; do
		[ $i -lt $((WAIT * 10)) ] || die "authdaemond did not come up"
		sleep 0.1
		i=$((i + 1))
	done
}

authd_stop() {
	local pid
	pid=$(authd_pid) || return 0
	stop_pid "$pid" || die "authdaemond (pid $pid) would not exit"
	rm -f "$AUTHD_RUN/socket"
}

# ---- saving and restoring the system's files -----------------------------

running_pid() {
	pid_from "$1/imapd.pid" "-pid=$1/imapd.pid"
}
PID_OF=running_pid

system_restore() {
	local f
	[ -d "$SAVE" ] || return 0
	authd_stop
	for f in $SYSTEM_FILES; do
		if [ -e "$SAVE/$f.absent" ]; then
			rm -f "$ETC/$f"
		elif [ -e "$SAVE/$f" ]; then
			cp -p "$SAVE/$f" "$ETC/$f.twinbox-tmp" &&
				mv "$ETC/$f.twinbox-tmp" "$ETC/$f" ||
				die "$ETC/$f: cannot restore from $SAVE"
		fi
	done
	[ -e "$SAVE/authdaemond.was-running" ] && authd_start
	rm -rf "$SAVE"
}

# One instance at a time: LOCK (a directory, made atomically) names the
# instance's DIR and the pid of the start that made it. Another start
# waits while that instance runs or starts (TWINBOX_COURIER_WAIT seconds,
# default 300); a stop marks the lock with its own pid, so that a waiting
# start waits for it too. A lock whose instance and start (or stop) are
# all gone was left by a run killed before its stop: the files it saved
# are put back first.
lock_owner_alive() {
	local owner pid
	owner=$(cat "$LOCK/owner" 2>/dev/null)
	pid=$(cat "$LOCK/pid" 2>/dev/null)
	pid_alive "$pid" && return 0
	[ -n "$owner" ] && running_pid "$owner" >/dev/null
}

take_lock() {
	local dir=$1 i=0 limit=$((${TWINBOX_COURIER_WAIT:-300} * 10))
	mkdir -p "${SAVE%/*}" || die "${SAVE%/*}: cannot create"
	while ! mkdir "$LOCK" 2>/dev/null; do
		if ! lock_owner_alive; then
			[ -d "$SAVE" ] && echo "$PROG: restoring the system's" \
				"Courier files saved by an interrupted run" >&2
			system_restore
			rm -rf "$LOCK"
			continue
		fi
		[ $i -lt $limit ] || die "another instance runs in" \
			"$(cat "$LOCK/owner" 2>/dev/null); stop it first"
		[ $i -eq 0 ] && echo "$PROG: waiting for the instance in" \
			"$(cat "$LOCK/owner" 2>/dev/null) to stop" >&2
		sleep 0.1
		i=$((i + 1))
	done
	echo "$dir" >"$LOCK/owner" && echo $$ >"$LOCK/pid" ||
		die "$LOCK: cannot write"
}

# Under the lock: the system's files as they are now.
system_save() {
	local dir=$1 f
	[ -d "$SAVE" ] && system_restore
	rm -rf "$SAVE.tmp"
	mkdir "$SAVE.tmp" || die "$SAVE.tmp: cannot create"
	for f in $SYSTEM_FILES; do
		if [ -e "$ETC/$f" ]; then
			cp -p "$ETC/$f" "$SAVE.tmp/$f" || die "$ETC/$f: cannot save"
		else
			touch "$SAVE.tmp/$f.absent"
		fi
	done
	authd_pid >/dev/null && touch "$SAVE.tmp/authdaemond.was-running"
	mv "$SAVE.tmp" "$SAVE" || die "$SAVE: cannot create"
}

install_file() {
	cp "$1" "$ETC/$2.twinbox-tmp" && chmod "$3" "$ETC/$2.twinbox-tmp" &&
		mv "$ETC/$2.twinbox-tmp" "$ETC/$2" || die "$ETC/$2: cannot write"
}

system_install() {
	local dir=$1
	sed 's/^authmodulelist=.*/authmodulelist="authuserdb"/' \
		"$SAVE/authdaemonrc" >"$dir/authdaemonrc" ||
		die "$SAVE/authdaemonrc: cannot read"
	install_file "$dir/authdaemonrc" authdaemonrc 660
	install_file "$dir/userdb.dat" userdb.dat 644
	install_file "$dir/userdbshadow.dat" userdbshadow.dat 600
	authd_stop
	authd_start
}

# ---- users ---------------------------------------------------------------

add_user() {
	local dir=$1 user=$2 pass=$3 hash home
	valid_user "$user" || die "invalid user name '$user'"
	grep -q "^$user	" "$dir/userdb" 2>/dev/null && return 0
	home=$dir/home/$user
	mkdir -p "$home" && maildirmake "$home/Maildir" ||
		die "$home/Maildir: cannot create"
	chown -R nobody:nogroup "$home" || die "$home: cannot chown"
	hash=$(printf '%s\n' "$pass" | userdbpw -md5) || die "userdbpw failed"
	printf '%s\thome=%s|mail=%s|uid=%s|gid=%s|systempw=%s\n' "$user" \
		"$home" "$home/Maildir" "$(id -u nobody)" \
		"$(getent group nogroup | cut -d: -f3)" "$hash" >>"$dir/userdb" ||
		die "$dir/userdb: cannot write"
	chmod 600 "$dir/userdb"
	makeuserdb -f "$dir/userdb" || die "makeuserdb failed"
}

users_of() {
	cut -f1 "$1/userdb" | tr '\n' ' ' | sed 's/ $//'
}

# ---- the daemons ---------------------------------------------------------

# couriertcpd with the variables of the package's etc/courier/imapd and
# imapd-ssl files that matter here; nothing else of the caller's.
launch_tcpd() {
	local dir=$1 port=$2 pidfile=$3 root
	shift 3
	root=$(deb_root courier)
	(
		cd "$dir" || exit 1
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		exec env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin \
			IMAP_CAPABILITY="$CAPS" \
			IMAP_CAPABILITY_TLS="$CAPS AUTH=PLAIN" \
			IMAP_KEYWORDS=1 IMAP_ACL=1 IMAP_STARTTLS=YES \
			IMAP_TLS_REQUIRED=0 IMAP_UMASK=022 IMAP_USELOCKS=1 \
			IMAP_IDLE_TIMEOUT=60 IMAP_MAILBOX_SANITY_CHECK=1 \
			IMAP_TRASHFOLDERNAME=Trash IMAP_EMPTYTRASH= \
			IMAP_MOVE_EXPUNGE_TO_TRASH=0 HEADERFROM=X-IMAP-Sender \
			IMAP_SHAREDINDEXFILE="$dir/shared-index" \
			COURIERTLS=/usr/bin/couriertls \
			TLS_CERTFILE="$dir/courier.pem" \
			TLS_DHPARAMS=/etc/courier/dhparams.pem \
			TLS_VERIFYPEER=NONE TLS_CACHEFILE= \
			/usr/sbin/couriertcpd -pid="$pidfile" -address=127.0.0.1 \
			-maxprocs=20 -nodnslookup -noidentlookup "$port" "$@" \
			"$root/usr/lib/courier/courier/imaplogin" \
			"$root/usr/bin/imapd" Maildir \
			</dev/null >>"$dir/courier.out" 2>&1
	)
}

stop_daemons() {
	local dir=$1 f pid p
	for f in imapd.pid imapds.pid; do
		pid=$(pid_from "$dir/$f" "-pid=$dir/$f") || continue
		stop_pid "$pid" || die "couriertcpd $pid would not exit"
	done
	# Sessions still open work in a user's home below DIR.
	for p in /proc/[0-9]*; do
		case "$(readlink "$p/cwd" 2>/dev/null)" in
		"$dir"/home/*) stop_pid "${p#/proc/}" ;;
		esac
	done
}

write_env() {
	local dir=$1
	write_server_env "$dir" courier "$(users_of "$dir")" \
		"NS_PREFIX='INBOX.'" "NS_SEP=." \
		"MAIL_DIR=$(shell_quote "$dir/home")" \
		"LOG=$(shell_quote "$dir/courier.out")" \
		"PID=$(running_pid "$dir")"
}

cmd_start() {
	[ $# -ge 1 ] || usage
	local dir u attempt=1
	[ "$(id -u)" -eq 0 ] || die "Courier's authdaemond needs root"
	dir=$(absolute_dir "$1")
	shift
	running_pid "$dir" >/dev/null && die "$dir: already running"
	for u in maildirmake userdbpw makeuserdb couriertcpd couriertls; do
		command -v "$u" >/dev/null 2>&1 || [ -x "/usr/sbin/$u" ] ||
			die "$u is missing (run scripts/install-deps.sh --servers)"
	done
	deb_root courier >/dev/null
	PASSWORD=${TEST_PASSWORD:-secret}
	chmod 755 "$dir" && mkdir -p "$dir/home" && chmod 755 "$dir/home" ||
		die "$dir: cannot prepare"
	make_certs "$dir/tls"
	# imaplogin reads it for STARTTLS after giving up root.
	cat "$dir/tls/localhost.key" "$dir/tls/localhost.pem" \
		>"$dir/courier.pem" && chmod 644 "$dir/courier.pem" ||
		die "$dir/courier.pem: cannot write"
	[ $# -eq 0 ] && [ ! -s "$dir/userdb" ] && set -- alice bob
	for u in "$@"; do add_user "$dir" "$u" "$PASSWORD"; done
	take_lock "$dir"
	system_save "$dir"
	system_install "$dir"
	: >"$dir/courier.out"
	while :; do
		pick_ports
		launch_tcpd "$dir" "$IMAP_PORT" "$dir/imapd.pid"
		launch_tcpd "$dir" "$IMAPS_PORT" "$dir/imapds.pid" \
			/usr/bin/couriertls -server -tcpd
		wait_up running_pid "$dir" && break
		stop_daemons "$dir"
		[ $attempt -lt 5 ] || {
			tail -20 "$dir/courier.out" >&2
			system_restore
			rm -rf "$LOCK"
			die "Courier did not answer on ports $IMAP_PORT and $IMAPS_PORT"
		}
		attempt=$((attempt + 1))
	done
	write_env "$dir" || die "$dir/server.env: cannot write"
	echo "$PROG: running in $dir: imap $HOST:$IMAP_PORT," \
		"imaps $HOST:$IMAPS_PORT, users $(users_of "$dir")"
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	local dir owner
	dir=$(existing_dir "$1") || exit 1
	owner=$(cat "$LOCK/owner" 2>/dev/null)
	# A start waiting for the lock waits for this stop too.
	[ "$owner" = "$dir" ] && echo $$ >"$LOCK/pid"
	stop_daemons "$dir"
	if [ "$owner" = "$dir" ]; then
		system_restore
		rm -rf "$LOCK"
	fi
	echo "$PROG: $dir: stopped"
}

cmd_adduser() {
	[ $# -ge 2 ] && [ $# -le 3 ] || usage
	local dir
	dir=$(existing_dir "$1") || exit 1
	add_user "$dir" "$2" "${3:-${TEST_PASSWORD:-secret}}"
	if running_pid "$dir" >/dev/null; then
		install_file "$dir/userdb.dat" userdb.dat 644
		install_file "$dir/userdbshadow.dat" userdbshadow.dat 600
		sed -i "s/^USERS=.*/USERS=$(shell_quote "$(users_of "$dir")")/" \
			"$dir/server.env"
	fi
	echo "$PROG: user $2 added"
}

dispatch "$@"
