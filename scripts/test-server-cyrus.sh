#!/bin/bash
# A private Cyrus IMAP 3.6 on 127.0.0.1 for the interoperability tests,
# with the interface of test-server.sh:
#
#   test-server-cyrus.sh start DIR [USER...]        (users: alice bob)
#   test-server-cyrus.sh stop DIR
#   test-server-cyrus.sh status DIR                 exit 0 running, 3 not
#   test-server-cyrus.sh adduser DIR USER [PASS]
#   test-server-cyrus.sh populate DIR USER N FOLDERS [SEED]
#
# The system's Cyrus master (cyrus-common) runs with a configuration,
# mailbox spool, databases and sockets all in DIR, and the imapd of the
# extracted cyrus-imapd package (scripts/install-deps.sh --servers) on two
# free ports: plain (STARTTLS offered, plaintext login allowed) and TLS.
# Mailboxes use '/' with altnamespace: no "INBOX." prefix. Passwords are
# in DIR's own sasldb; the admin "cyrus" creates each user's mailbox.
# Nothing of the system's Cyrus (/etc/imapd.conf, its service) is used.
# As root, the daemons run as the account "cyrus". See docs/test-server.md.
set -u

PROG=test-server-cyrus
HOST=127.0.0.1
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd -P)
WAIT=${TEST_SERVER_WAIT:-10}
CYRUS_BIN=/usr/lib/cyrus/bin
# shellcheck source=scripts/test-server-lib.sh
. "$SCRIPT_DIR/test-server-lib.sh"

usage() {
	sed -n '5,9p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

owner() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "cyrus:$(id -gn cyrus)"
	else
		echo "$(id -un):$(id -gn)"
	fi
}

master_pid() {
	pid_from "$1/master.pid" "$1/imapd.conf"
}
PID_OF=master_pid

write_conf() {
	local dir=$1 imapd
	imapd=$(deb_root cyrus)/usr/lib/cyrus/bin/imapd
	cat >"$dir/imapd.conf" <<EOF || return 1
configdirectory: $dir/config
partition-default: $dir/spool
defaultpartition: default
admins: cyrus
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
unixhierarchysep: yes
altnamespace: yes
idlesocket: $dir/socket/idle
notifysocket: $dir/socket/notify
lmtpsocket: $dir/socket/lmtp
tls_server_cert: $dir/cyrus-tls/cert.pem
tls_server_key: $dir/cyrus-tls/key.pem
servername: localhost
syslog_prefix: twinbox-test
EOF
	cat >"$dir/cyrus.conf" <<EOF
START {
  recover cmd="$CYRUS_BIN/ctl_cyrusdb -r -C $dir/imapd.conf"
}
SERVICES {
  imap cmd="$imapd -C $dir/imapd.conf" listen="$HOST:$IMAP_PORT" prefork=0
  imaps cmd="$imapd -s -C $dir/imapd.conf" listen="$HOST:$IMAPS_PORT" prefork=0
}
EVENTS {
}
EOF
}

set_password() {
	printf '%s\n' "$3" | saslpasswd2 -p -c -f "$1/sasldb2" -u localhost "$2" ||
		die "saslpasswd2 failed for $2"
	chown "$(owner)" "$1/sasldb2" && chmod 600 "$1/sasldb2" ||
		die "$1/sasldb2: cannot chown"
}

# The admin creates the user's mailbox; the owner gets every right.
create_mailbox() {
	local dir=$1 user=$2 port
	port=$(env_value "$dir" IMAP_PORT) || port=$IMAP_PORT
	printf 'CREATE "user/%s"\n' "$user" |
		"${IMAPC:-$SCRIPT_DIR/../${BUILD:-build}/tests/tools/imapc}" \
		"$port" cyrus "$(cat "$dir/admin.pw")" >>"$dir/cyrus.out" 2>&1 ||
		die "cannot create the mailbox of $user (see $dir/cyrus.out)"
}

add_user() {
	local dir=$1 user=$2 pass=$3
	valid_user "$user" || die "invalid user name '$user'"
	grep -qx "$user" "$dir/users" 2>/dev/null && return 0
	set_password "$dir" "$user" "$pass"
	echo "$user" >>"$dir/users"
}

prepare_dir() {
	local dir=$1 d
	chmod 755 "$dir" || die "$dir: cannot chmod"
	for d in config spool socket cyrus-tls; do
		mkdir -p "$dir/$d" || die "$dir/$d: cannot create"
	done
	make_certs "$dir/tls"
	cp "$dir/tls/localhost.pem" "$dir/cyrus-tls/cert.pem" &&
		cp "$dir/tls/localhost.key" "$dir/cyrus-tls/key.pem" ||
		die "$dir/cyrus-tls: cannot copy the certificate"
	[ -s "$dir/admin.pw" ] ||
		od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$dir/admin.pw"
	chmod 600 "$dir/admin.pw"
	set_password "$dir" cyrus "$(cat "$dir/admin.pw")"
}

launch() {
	local dir=$1
	write_conf "$dir" || die "$dir/imapd.conf: cannot write"
	chown -R "$(owner)" "$dir/config" "$dir/spool" "$dir/socket" \
		"$dir/cyrus-tls" || die "$dir: cannot chown"
	rm -f "$dir/master.pid"
	spawn "$dir" "$dir/cyrus.out" "$CYRUS_BIN/master" -C "$dir/imapd.conf" \
		-M "$dir/cyrus.conf" -p "$dir/master.pid" -d || return 1
	wait_up master_pid "$dir"
}

write_env() {
	local dir=$1
	write_server_env "$dir" cyrus \
		"$(tr '\n' ' ' <"$dir/users" | sed 's/ $//')" \
		"NS_PREFIX=" "NS_SEP=/" "MAIL_DIR=$(shell_quote "$dir/spool")" \
		"LOG=$(shell_quote "$dir/cyrus.out")" "PID=$(master_pid "$dir")"
}

stop_master() {
	stop_instance master_pid "$1" "$1/imapd.conf" master
}

cmd_start() {
	[ $# -ge 1 ] || usage
	local dir u attempt=1
	dir=$(absolute_dir "$1")
	shift
	master_pid "$dir" >/dev/null && die "$dir: already running"
	[ -x "$CYRUS_BIN/master" ] && command -v saslpasswd2 >/dev/null ||
		die "cyrus-common or sasl2-bin is missing" \
			"(run scripts/install-deps.sh --servers)"
	deb_root cyrus >/dev/null
	PASSWORD=${TEST_PASSWORD:-secret}
	prepare_dir "$dir"
	[ $# -eq 0 ] && [ ! -s "$dir/users" ] && set -- alice bob
	for u in "$@"; do add_user "$dir" "$u" "$PASSWORD"; done
	: >"$dir/cyrus.out"
	while :; do
		pick_ports
		launch "$dir" && break
		stop_master "$dir"
		[ $attempt -lt 5 ] || {
			tail -20 "$dir/cyrus.out" >&2
			die "Cyrus did not answer on ports $IMAP_PORT and $IMAPS_PORT"
		}
		attempt=$((attempt + 1))
	done
	for u in "$@"; do create_mailbox "$dir" "$u"; done
	write_env "$dir" || die "$dir/server.env: cannot write"
	echo "$PROG: running in $dir: imap $HOST:$IMAP_PORT," \
		"imaps $HOST:$IMAPS_PORT, users $(tr '\n' ' ' <"$dir/users" | sed 's/ $//')"
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	local dir
	dir=$(existing_dir "$1") || exit 1
	stop_master "$dir"
	echo "$PROG: $dir: stopped"
}

cmd_adduser() {
	[ $# -ge 2 ] && [ $# -le 3 ] || usage
	local dir
	dir=$(existing_dir "$1") || exit 1
	master_pid "$dir" >/dev/null || die "$dir: not running"
	add_user "$dir" "$2" "${3:-${TEST_PASSWORD:-secret}}"
	create_mailbox "$dir" "$2"
	sed -i "s/^USERS=.*/USERS=$(shell_quote "$(tr '\n' ' ' <"$dir/users" |
		sed 's/ $//')")/" "$dir/server.env"
	echo "$PROG: user $2 added"
}

dispatch "$@"
