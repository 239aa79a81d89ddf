#!/bin/bash
# A private GNU mailutils imap4d 3.15 on 127.0.0.1 for the
# interoperability tests, with the interface of test-server.sh:
#
#   test-server-mailutils.sh start DIR [USER...]    (users: alice bob)
#   test-server-mailutils.sh stop DIR
#   test-server-mailutils.sh status DIR             exit 0 running, 3 not
#   test-server-mailutils.sh adduser DIR USER [PASS]
#   test-server-mailutils.sh populate DIR USER N FOLDERS [SEED]
#
# imap4d (mailutils-imap4d) runs as a daemon from DIR/imap4d.conf on two
# free ports, plain and TLS, with Maildir mailboxes in DIR/home/USER/Maildir
# ('/' separator, no prefix). Users are virtual: they log in as
# USER@test.local (LOGIN_SUFFIX in server.env), their passwords are in
# DIR/virt/test.local. Nothing of the system's mailutils configuration is
# read. See docs/test-server.md for the server's known bugs.
set -u

PROG=test-server-mailutils
HOST=127.0.0.1
DOMAIN=test.local
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd -P)
WAIT=${TEST_SERVER_WAIT:-10}
. "$SCRIPT_DIR/test-server-lib.sh"

usage() {
	sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

daemon_pid() {
	local pid
	pid=$(tr -dc 0-9 2>/dev/null <"$1/imap4d.pid")
	pid_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -qF -- "$1/imap4d.conf" || return 1
	echo "$pid"
}

write_conf() {
	local dir=$1
	cat >"$dir/imap4d.conf" <<EOF
mode daemon;
pidfile "$dir/imap4d.pid";
foreground no;
max-children 20;
server $HOST:$IMAP_PORT {
};
server $HOST:$IMAPS_PORT {
  tls-mode connection;
};
tls {
  ssl-certificate-file "$dir/tls/localhost.pem";
  ssl-key-file "$dir/tls/localhost.key";
};
tls-file-checks {
  key-file none;
  cert-file none;
  ca-file none;
};
logging {
  syslog no;
};
auth {
  authorization virtdomain;
  authentication generic;
};
virtdomain {
  passwd-dir "$dir/virt";
};
mailbox {
  mailbox-type maildir;
  mail-spool "maildir://$dir/home/\${user}/Maildir";
};
namespace personal {
  prefix "" {
    directory "$dir/home/\${user}/Maildir";
    delimiter "/";
    mailbox-type maildir;
  };
};
EOF
}

add_user() {
	local dir=$1 user=$2 pass=$3 hash
	valid_user "$user" || die "invalid user name '$user'"
	grep -q "^$user:" "$dir/virt/$DOMAIN" 2>/dev/null && return 0
	hash=$(openssl passwd -1 "$pass") || die "openssl passwd failed"
	mkdir -p "$dir/home/$user" || die "$dir/home/$user: cannot create"
	printf '%s:%s:%s:%s::%s:/bin/sh\n' "$user" "$hash" "$(id -u)" \
		"$(id -g)" "$dir/home/$user" >>"$dir/virt/$DOMAIN" ||
		die "$dir/virt/$DOMAIN: cannot write"
}

users_of() {
	cut -d: -f1 "$1/virt/$DOMAIN" | tr '\n' ' ' | sed 's/ $//'
}

wait_up() {
	local i=0
	while [ $i -lt $((WAIT * 10)) ]; do
		daemon_pid "$1" >/dev/null && port_answers "$IMAP_PORT" &&
			port_answers "$IMAPS_PORT" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

launch() {
	local dir=$1
	write_conf "$dir" || die "$dir/imap4d.conf: cannot write"
	rm -f "$dir/imap4d.pid"
	(
		cd "$dir" || exit 1
		for fd in /proc/$BASHPID/fd/*; do
			fd=${fd##*/}
			[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
		done
		exec imap4d --config-file="$dir/imap4d.conf" \
			</dev/null >>"$dir/imap4d.out" 2>&1
	) || return 1
	wait_up "$dir"
}

write_env() {
	local dir=$1
	{
		echo "# Written by test-server-mailutils.sh start; sourced by tests."
		echo "SERVER_KIND=mailutils"
		echo "IMAP_HOST=$HOST"
		echo "IMAP_PORT=$IMAP_PORT"
		echo "IMAPS_PORT=$IMAPS_PORT"
		echo "CA_FILE=$(shell_quote "$dir/tls/ca.pem")"
		echo "CERT_NAME=localhost"
		echo "USERS=$(shell_quote "$(users_of "$dir")")"
		echo "LOGIN_SUFFIX=@$DOMAIN"
		echo "PASSWORD=$(shell_quote "$PASSWORD")"
		echo "NS_PREFIX="
		echo "NS_SEP=/"
		echo "MAIL_DIR=$(shell_quote "$dir/home")"
		echo "LOG=$(shell_quote "$dir/imap4d.out")"
		echo "PID=$(daemon_pid "$dir")"
	} >"$dir/server.env.tmp" && mv "$dir/server.env.tmp" "$dir/server.env"
}

# Sessions are children of the daemon; they go with it.
stop_daemon() {
	local dir=$1 pid left i=0
	pid=$(daemon_pid "$dir") && { stop_pid "$pid" ||
		die "imap4d $pid would not exit"; }
	while [ $i -lt $((WAIT * 10)) ]; do
		left=$(ps -eo pid=,args= | TBT_CONF="$dir/imap4d.conf" awk \
			'index($0, ENVIRON["TBT_CONF"]) { print $1 }')
		[ -z "$left" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	die "$dir: processes still running: $left"
}

cmd_start() {
	[ $# -ge 1 ] || usage
	local dir u attempt=1
	dir=$(absolute_dir "$1")
	shift
	daemon_pid "$dir" >/dev/null && die "$dir: already running"
	command -v imap4d >/dev/null 2>&1 ||
		die "imap4d is missing (run scripts/install-deps.sh --servers)"
	PASSWORD=${TEST_PASSWORD:-secret}
	chmod 755 "$dir" && mkdir -p "$dir/virt" "$dir/home" ||
		die "$dir: cannot prepare"
	make_certs "$dir/tls"
	[ $# -eq 0 ] && [ ! -s "$dir/virt/$DOMAIN" ] && set -- alice bob
	for u in "$@"; do add_user "$dir" "$u" "$PASSWORD"; done
	: >"$dir/imap4d.out"
	while :; do
		pick_ports
		launch "$dir" && break
		stop_daemon "$dir"
		[ $attempt -lt 5 ] || {
			tail -20 "$dir/imap4d.out" >&2
			die "imap4d did not answer on ports $IMAP_PORT and $IMAPS_PORT"
		}
		attempt=$((attempt + 1))
	done
	write_env "$dir" || die "$dir/server.env: cannot write"
	echo "$PROG: running in $dir: imap $HOST:$IMAP_PORT," \
		"imaps $HOST:$IMAPS_PORT, users $(users_of "$dir")"
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	local dir
	[ -d "$1" ] || die "$1: no such directory"
	dir=$(cd "$1" && pwd -P)
	stop_daemon "$dir"
	echo "$PROG: $dir: stopped"
}

cmd_status() {
	[ $# -eq 1 ] || usage
	local dir pid
	[ -d "$1" ] || { echo "$PROG: $1: stopped"; exit 3; }
	dir=$(cd "$1" && pwd -P)
	pid=$(daemon_pid "$dir") || { echo "$PROG: $dir: stopped"; exit 3; }
	echo "$PROG: $dir: running (pid $pid, imap $HOST:$(env_value "$dir" \
IMAP_PORT), imaps $HOST:$(env_value "$dir" IMAPS_PORT))"
}

cmd_adduser() {
	[ $# -ge 2 ] && [ $# -le 3 ] || usage
	local dir
	[ -d "$1" ] || die "$1: no such directory"
	dir=$(cd "$1" && pwd -P)
	add_user "$dir" "$2" "${3:-${TEST_PASSWORD:-secret}}"
	[ -f "$dir/server.env" ] &&
		sed -i "s/^USERS=.*/USERS=$(shell_quote "$(users_of "$dir")")/" \
			"$dir/server.env"
	echo "$PROG: user $2 added"
}

cmd_populate() {
	[ $# -ge 4 ] && [ $# -le 5 ] || usage
	local dir
	[ -d "$1" ] || die "$1: no such directory"
	dir=$(cd "$1" && pwd -P)
	daemon_pid "$dir" >/dev/null || die "$dir: not running"
	(
		. "$dir/server.env"
		imap_populate "$IMAP_PORT" "$2$LOGIN_SUFFIX" "$PASSWORD" / "" \
			"$3" "$4" "${5:-1}"
	)
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
start) cmd_start "$@" ;;
stop) cmd_stop "$@" ;;
status) cmd_status "$@" ;;
adduser) cmd_adduser "$@" ;;
populate) cmd_populate "$@" ;;
*) usage ;;
esac
