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
# shellcheck source=scripts/test-server-lib.sh
. "$SCRIPT_DIR/test-server-lib.sh"

usage() {
	sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

daemon_pid() {
	pid_from "$1/imap4d.pid" "$1/imap4d.conf"
}
PID_OF=daemon_pid

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

launch() {
	local dir=$1
	write_conf "$dir" || die "$dir/imap4d.conf: cannot write"
	rm -f "$dir/imap4d.pid"
	spawn "$dir" "$dir/imap4d.out" imap4d \
		--config-file="$dir/imap4d.conf" || return 1
	wait_up daemon_pid "$dir"
}

write_env() {
	local dir=$1
	write_server_env "$dir" mailutils "$(users_of "$dir")" \
		"LOGIN_SUFFIX=@$DOMAIN" "NS_PREFIX=" "NS_SEP=/" \
		"MAIL_DIR=$(shell_quote "$dir/home")" \
		"LOG=$(shell_quote "$dir/imap4d.out")" "PID=$(daemon_pid "$dir")"
}

# Sessions are children of the daemon; they go with it.
stop_daemon() {
	stop_instance daemon_pid "$1" "$1/imap4d.conf" imap4d
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
	dir=$(existing_dir "$1") || exit 1
	stop_daemon "$dir"
	echo "$PROG: $dir: stopped"
}

cmd_adduser() {
	[ $# -ge 2 ] && [ $# -le 3 ] || usage
	local dir
	dir=$(existing_dir "$1") || exit 1
	add_user "$dir" "$2" "${3:-${TEST_PASSWORD:-secret}}"
	[ -f "$dir/server.env" ] &&
		sed -i "s/^USERS=.*/USERS=$(shell_quote "$(users_of "$dir")")/" \
			"$dir/server.env"
	echo "$PROG: user $2 added"
}

dispatch "$@"
