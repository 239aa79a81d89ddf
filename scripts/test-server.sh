#!/bin/bash
# A private Dovecot on 127.0.0.1 for integration tests, the demo and the
# benchmark. Everything lives in one directory of the caller's choosing;
# the system's Dovecot (its configuration and its service) is never used.
#
#   test-server.sh start DIR [USER...]      start (users default: alice bob)
#   test-server.sh stop DIR                 stop, bounded in time
#   test-server.sh status DIR               exit 0 when running, 3 when not
#   test-server.sh adduser DIR USER [PASS]  add a user (running or not)
#   test-server.sh populate DIR USER N FOLDERS [SEED]
#                                           generate N messages for USER
#
# Environment: TEST_PASSWORD (default "secret"), TEST_SERVER_CERT
# (localhost | wrong-host), TEST_SERVER_COMPRESS=1, TEST_SERVER_NOTIFY=1,
# TEST_SERVER_FAST=1 (login and imap processes kept ready and reused),
# TEST_SERVER_CAPS="...", TEST_SERVER_SEPARATOR (hierarchy separator),
# TEST_SERVER_OAUTH_URL (XOAUTH2/OAUTHBEARER checked at that endpoint),
# TEST_SERVER_PORTS="IMAP IMAPS" (ports to try first), TEST_SERVER_WAIT
# (seconds to wait at start and stop, default 10), TEST_SERVER_AUTH_MECHS
# (more mechanisms, e.g. "cram-md5 scram-sha-1 scram-sha-256"),
# TEST_SERVER_CLIENT_CERT=1 (logins need a client certificate),
# TEST_SERVER_MAX_USERIP=N (at most N sessions of a user from one address).
# See docs/test-server.md.
set -u

PROG=test-server
HOST=127.0.0.1
SCRIPT_DIR=$(cd "$(dirname "$0")" && pwd -P)
WAIT=${TEST_SERVER_WAIT:-10}
START_ATTEMPTS=8
# shellcheck source=scripts/test-server-lib.sh
. "$SCRIPT_DIR/test-server-lib.sh"

usage() {
	sed -n '6,11p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# passwd-file fields are separated by ':' and records by newlines.
check_password() {
	case "$1" in
	*:* | *"
"*) die "the password must not contain ':' or a newline" ;;
	esac
}

# Dovecot refuses to run mail processes as root, and its login processes
# must not run as root either; as root we hand those to unprivileged
# accounts. As any other user, every role is that user.
set_identities() {
	if [ "$(id -u)" -eq 0 ]; then
		INTERNAL_USER=root
		INTERNAL_GROUP=root
		LOGIN_USER=dovenull
		MAIL_USER=nobody
		MAIL_GROUP=nogroup
		getent passwd dovenull >/dev/null ||
			die "the account 'dovenull' (created by dovecot-core) is missing"
		getent group nogroup >/dev/null || MAIL_GROUP=nobody
	else
		INTERNAL_USER=$(id -un)
		INTERNAL_GROUP=$(id -gn)
		LOGIN_USER=$INTERNAL_USER
		MAIL_USER=$INTERNAL_USER
		MAIL_GROUP=$INTERNAL_GROUP
	fi
}

# The mail account must be able to walk down to DIR/mail.
check_traversable() {
	[ "$(id -u)" -eq 0 ] || return 0
	local p=$1
	while [ -n "$p" ] && [ "$p" != / ]; do
		case "$(stat -c %A "$p")" in
		?????????[xt]) ;;
		*) die "$p: not traversable by $MAIL_USER (needs o+x, e.g. chmod 755)" ;;
		esac
		p=${p%/*}
	done
}

instance_name() {
	echo "tbt-$(printf '%s' "$1" | cksum | cut -d' ' -f1)"
}

# Unix socket paths are limited to 108 bytes; a deep DIR gets its runtime
# directory under TMPDIR instead.
run_dir_for() {
	if [ ${#1} -le 60 ]; then
		echo "$1/run"
	else
		echo "${TMPDIR:-/tmp}/$(instance_name "$1").run"
	fi
}

# The master's pid, only when that process is this instance's master.
master_pid() {
	local run
	run=$(env_value "$1" RUN_DIR)
	[ -n "$run" ] || run=$(run_dir_for "$1")
	pid_from "$run/master.pid" "$1/dovecot.conf"
}
PID_OF=master_pid

log_tail() {
	local f
	for f in "$1/dovecot.out" "$1/dovecot.log"; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f:" >&2
		tail -n 20 "$f" >&2
	done
}

make_cert() {
	local tls=$1 name=$2 san=$3 usage=${4:-serverAuth}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tls/$name.key" -out "$tls/$name.csr" \
		-subj "/CN=twinbox test $name" 2>>"$tls/openssl.log" || return 1
	printf '%s\n' "subjectAltName=$san" "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=$usage" >"$tls/$name.ext"
	openssl x509 -req -in "$tls/$name.csr" -CA "$tls/ca.pem" \
		-CAkey "$tls/ca.key" -set_serial "0x$(od -An -N8 -tx1 \
		/dev/urandom | tr -d ' \n')" -days 3650 -extfile "$tls/$name.ext" \
		-out "$tls/$name.pem" 2>>"$tls/openssl.log" || return 1
	rm -f "$tls/$name.csr" "$tls/$name.ext"
}

# A small CA and two server certificates signed by it: one valid for
# 127.0.0.1 and localhost, one for another host name only, so that a test
# can tell a host name mismatch from an unknown issuer.
make_certs() {
	local tls=$1
	[ -s "$tls/ca.pem" ] && [ -s "$tls/localhost.pem" ] &&
		[ -s "$tls/wrong-host.pem" ] && return 0
	make_ca "$tls"
	make_cert "$tls" localhost "IP:127.0.0.1,DNS:localhost" ||
		die "openssl could not make the server certificate; see $tls/openssl.log"
	make_cert "$tls" wrong-host "DNS:wrong.example" ||
		die "openssl could not make the wrong-host certificate; see $tls/openssl.log"
	chmod 644 "$tls/ca.pem"
}

# TEST_SERVER_CLIENT_CERT=1: a client certificate signed by the same CA
# (client.pem, client.key) and a key that matches no certificate
# (other.key), for the tests of ClientCertificate and ClientKey.
make_client_certs() {
	local tls=$1
	[ "${TEST_SERVER_CLIENT_CERT:-0}" = 1 ] || return 0
	[ -s "$tls/client.pem" ] && [ -s "$tls/other.key" ] && return 0
	make_cert "$tls" client "DNS:client.test" clientAuth ||
		die "openssl could not make the client certificate; see $tls/openssl.log"
	openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 \
		-out "$tls/other.key" 2>>"$tls/openssl.log" ||
		die "openssl could not make a key; see $tls/openssl.log"
	chmod 644 "$tls/client.pem" "$tls/client.key" "$tls/other.key"
}

check_auth_mechs() {
	local m
	for m in ${TEST_SERVER_AUTH_MECHS:-}; do
		case "$m" in
		cram-md5 | digest-md5 | scram-sha-1 | scram-sha-256) ;;
		*) die "TEST_SERVER_AUTH_MECHS: unknown mechanism '$m'" \
			"(expected cram-md5 digest-md5 scram-sha-1 scram-sha-256)" ;;
		esac
	done
}

# Extra SASL mechanisms: Dovecot derives them from the {PLAIN} passwords.
auth_mechs() {
	echo "plain login ${TEST_SERVER_AUTH_MECHS:-}" \
		"${TEST_SERVER_OAUTH_URL:+xoauth2 oauthbearer}"
}

# TEST_SERVER_CLIENT_CERT=1: the server asks for a client certificate,
# checks it against the CA, and refuses any login without one.
conf_client_cert() {
	[ "${TEST_SERVER_CLIENT_CERT:-0}" = 1 ] || return 0
	printf 'ssl_ca = <%s/tls/ca.pem\n' "$1"
	printf 'ssl_verify_client_cert = yes\nssl_require_crl = no\n'
	printf 'auth_ssl_require_client_cert = yes\n'
}

add_user() {
	local dir=$1 user=$2 pass=$3
	valid_user "$user" || die "invalid user name '$user'"
	check_password "$pass"
	touch "$dir/passwd" || die "$dir/passwd: cannot write"
	grep -q "^$user:" "$dir/passwd" && return 0
	# Empty uid and gid: mail_uid/mail_gid apply (passwd-file rejects 0).
	printf '%s:{PLAIN}%s:::::\n' "$user" "$pass" >>"$dir/passwd" ||
		die "$dir/passwd: cannot write"
}

passwd_users() {
	cut -d: -f1 "$1/passwd" | tr '\n' ' ' | sed 's/ $//'
}

# The first attempt may use the ports the caller asked for (TEST_SERVER_PORTS,
# "IMAP IMAPS"), unchecked; any later attempt takes random free ones.
choose_ports() {
	if [ "$1" -eq 1 ] && [ -n "${TEST_SERVER_PORTS:-}" ]; then
		set -- $TEST_SERVER_PORTS
		[ $# -eq 2 ] && [[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] ||
			die "TEST_SERVER_PORTS must be two port numbers," \
				"not '$TEST_SERVER_PORTS'"
		IMAP_PORT=$1
		IMAPS_PORT=$2
		return 0
	fi
	pick_ports
}

# chroot needs root; without it the services run unconfined.
conf_unprivileged() {
	[ "$(id -u)" -eq 0 ] && return 0
	printf 'service anvil {\n  chroot =\n}\n'
}

# TEST_SERVER_FAST=1: Dovecot's "high-performance" login mode (one
# imap-login process serves many connections, two always ready) and imap
# processes started ahead and reused by later sessions of the same mail
# user. A login then costs no process start; the default (a process of
# each kind started per connection) is Dovecot's own.
conf_fast() {
	[ "${TEST_SERVER_FAST:-0}" = 1 ] || return 0
	printf 'service imap-login {\n  service_count = 0\n'
	printf '  process_min_avail = 2\n}\n'
	printf 'service imap {\n  service_count = 100\n'
	printf '  process_min_avail = 4\n  process_limit = 256\n}\n'
}

# Optional parts of the configuration, driven by the environment.
conf_plugins() {
	[ "${TEST_SERVER_NOTIFY:-0}" = 1 ] &&
		echo "mail_plugins = \$mail_plugins notify"
	echo "protocol imap {"
	[ "${TEST_SERVER_COMPRESS:-0}" = 1 ] &&
		echo "  mail_plugins = \$mail_plugins imap_zlib"
	[ -n "${TEST_SERVER_CAPS:-}" ] &&
		echo "  imap_capability = $TEST_SERVER_CAPS"
	[ -n "${TEST_SERVER_MAX_USERIP:-}" ] &&
		echo "  mail_max_userip_connections = $TEST_SERVER_MAX_USERIP"
	echo "}"
}

# TEST_SERVER_OAUTH_URL: XOAUTH2 and OAUTHBEARER logins, their tokens
# checked by POSTing them to that introspection endpoint (on 127.0.0.1;
# tests/tools/oauthd answers there). Passwords keep working as before.
conf_oauth() {
	local dir=$1
	[ -n "${TEST_SERVER_OAUTH_URL:-}" ] || return 0
	cat > "$dir/dovecot-oauth2.conf.ext" <<OAUTH
introspection_mode = post
introspection_url = $TEST_SERVER_OAUTH_URL
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
OAUTH
	printf 'passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n'
	printf '  args = %s/dovecot-oauth2.conf.ext\n}\n' "$dir"
}

conf_namespace() {
	local box
	echo "namespace inbox {"
	echo "  inbox = yes"
	[ -n "${TEST_SERVER_SEPARATOR:-}" ] &&
		echo "  separator = $TEST_SERVER_SEPARATOR"
	for box in Drafts Sent Trash Junk Archive; do
		printf '  mailbox %s {\n    special_use = \\%s\n  }\n' "$box" "$box"
	done
	echo "}"
}

write_conf() {
	local dir=$1
	{
		cat <<CONF
# Written by scripts/test-server.sh for a private test instance.
instance_name = $INSTANCE
base_dir = $RUN_DIR
state_dir = $dir/state
log_path = $dir/dovecot.log
listen = $HOST
protocols = imap
default_internal_user = $INTERNAL_USER
default_internal_group = $INTERNAL_GROUP
default_login_user = $LOGIN_USER
mail_uid = $MAIL_USER
mail_gid = $MAIL_GROUP
first_valid_uid = 0
first_valid_gid = 0
mail_location = maildir:$dir/mail/%u
ssl = yes
ssl_cert = <$dir/tls/$CERT_NAME.pem
ssl_key = <$dir/tls/$CERT_NAME.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = $(auth_mechs)
auth_verbose = yes
$(conf_client_cert "$dir")
$(conf_oauth "$dir")
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/passwd
}
service imap-login {
  chroot =
  inet_listener imap {
    address = $HOST
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = $HOST
    port = $IMAPS_PORT
    ssl = yes
  }
}
service doveadm {
  inet_listener {
    port = 0
  }
}
service stats {
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
		conf_namespace
		conf_plugins
		conf_fast
		conf_unprivileged
	} >"$dir/dovecot.conf"
}

# Reads the greeting from the plain port and connects to the TLS port. A
# greeting without capabilities ("Waiting for authentication process")
# means the auth service is not up yet: not ready.
ports_answer() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$IMAP_PORT && \
		read -r line <&3 && case \$line in '* OK [CAPABILITY '*) exit 0;; esac; \
		exit 1" 2>/dev/null || return 1
	timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$IMAPS_PORT" 2>/dev/null
}

# 0: up, 1: failed, 2: a port was taken (try others).
wait_until_up() {
	local dir=$1 i=0
	while [ $i -lt $((WAIT * 10)) ]; do
		if master_pid "$dir" >/dev/null && ports_answer; then
			return 0
		fi
		if grep -q "Address already in use" "$dir/dovecot.log" \
			"$dir/dovecot.out" 2>/dev/null; then
			return 2
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

launch() {
	local dir=$1 rc
	: >"$dir/dovecot.log"
	: >"$dir/dovecot.out"
	chmod 644 "$dir/dovecot.log" "$dir/dovecot.out"
	write_conf "$dir" || die "$dir/dovecot.conf: cannot write"
	doveconf -c "$dir/dovecot.conf" -n >/dev/null 2>>"$dir/dovecot.out" || {
		log_tail "$dir"
		die "$dir/dovecot.conf: rejected by doveconf"
	}
	# None of the caller's descriptors: a caller that reads our output,
	# or any pipe it handed down, to EOF would otherwise wait for the
	# daemon's exit.
	(
		close_inherited_fds
		exec timeout "$WAIT" dovecot -c "$dir/dovecot.conf" \
			</dev/null >>"$dir/dovecot.out" 2>&1
	)
	rc=$?
	if [ $rc -ne 0 ] && ! grep -q "Address already in use" \
		"$dir/dovecot.log" "$dir/dovecot.out" 2>/dev/null; then
		log_tail "$dir"
		die "dovecot failed to start (exit status $rc)"
	fi
	wait_until_up "$dir"
}

write_env() {
	local dir=$1 pid
	pid=$(master_pid "$dir")
	{
		echo "# Written by test-server.sh start; sourced by tests."
		echo "IMAP_HOST=$HOST"
		echo "IMAP_PORT=$IMAP_PORT"
		echo "IMAPS_PORT=$IMAPS_PORT"
		echo "CA_FILE=$(shell_quote "$dir/tls/ca.pem")"
		echo "CERT_NAME=$CERT_NAME"
		echo "USERS=$(shell_quote "$(passwd_users "$dir")")"
		echo "PASSWORD=$(shell_quote "$PASSWORD")"
		echo "MAIL_DIR=$(shell_quote "$dir/mail")"
		echo "MAIL_OWNER=$MAIL_USER:$MAIL_GROUP"
		echo "LOG=$(shell_quote "$dir/dovecot.log")"
		echo "CONF=$(shell_quote "$dir/dovecot.conf")"
		echo "RUN_DIR=$(shell_quote "$RUN_DIR")"
		echo "INSTANCE=$INSTANCE"
		echo "PID=$pid"
	} >"$dir/server.env.tmp" && mv "$dir/server.env.tmp" "$dir/server.env"
}

prepare_dir() {
	local dir=$1
	shift
	mkdir -p "$dir/mail" "$dir/state" || die "$dir: cannot create subdirectories"
	chmod 755 "$dir" "$dir/mail" || die "$dir: cannot chmod"
	check_traversable "$dir"
	chown "$MAIL_USER:$MAIL_GROUP" "$dir/mail" ||
		die "$dir/mail: cannot chown to $MAIL_USER:$MAIL_GROUP"
	make_certs "$dir/tls"
	make_client_certs "$dir/tls"
	if [ $# -eq 0 ] && [ ! -s "$dir/passwd" ]; then
		set -- alice bob
	fi
	local u
	for u in "$@"; do
		add_user "$dir" "$u" "$PASSWORD"
	done
}

cmd_start() {
	[ $# -ge 1 ] || usage
	local dir attempt=1 rc
	dir=$(absolute_dir "$1") || exit 1
	shift
	PASSWORD=${TEST_PASSWORD:-secret}
	CERT_NAME=${TEST_SERVER_CERT:-localhost}
	case "$CERT_NAME" in
	localhost | wrong-host) ;;
	*) die "TEST_SERVER_CERT must be 'localhost' or 'wrong-host'" ;;
	esac
	check_auth_mechs
	master_pid "$dir" >/dev/null && die "$dir: already running"
	command -v dovecot >/dev/null 2>&1 ||
		die "dovecot is not installed (run scripts/install-deps.sh)"
	set_identities
	prepare_dir "$dir" "$@"
	INSTANCE=$(instance_name "$dir")
	RUN_DIR=$(run_dir_for "$dir")
	while :; do
		choose_ports $attempt
		launch "$dir"
		rc=$?
		[ $rc -eq 0 ] && break
		stop_master "$dir" >/dev/null 2>&1
		if [ $rc -ne 2 ] || [ $attempt -ge $START_ATTEMPTS ]; then
			log_tail "$dir"
			die "dovecot did not answer on $HOST:$IMAP_PORT and" \
				"$HOST:$IMAPS_PORT within ${WAIT}s"
		fi
		echo "$PROG: port $IMAP_PORT or $IMAPS_PORT is taken; trying others" >&2
		attempt=$((attempt + 1))
	done
	write_env "$dir" || die "$dir/server.env: cannot write"
	echo "$PROG: running in $dir: imap $HOST:$IMAP_PORT," \
		"imaps $HOST:$IMAPS_PORT, users $(passwd_users "$dir")"
}

stop_master() {
	local dir=$1 pid run
	pid=$(master_pid "$dir") || return 0
	stop_pid "$pid" || return 1
	run=$(env_value "$dir" RUN_DIR)
	[ -n "$run" ] || run=$(run_dir_for "$dir")
	case "$run" in
	"$dir"/*) ;;
	*) rm -rf "$run" ;;
	esac
	return 0
}

cmd_stop() {
	[ $# -eq 1 ] || usage
	local dir names
	dir=$(existing_dir "$1") || exit 1
	if ! master_pid "$dir" >/dev/null; then
		echo "$PROG: $dir: not running"
		return 0
	fi
	stop_master "$dir" || {
		log_tail "$dir"
		die "$dir: dovecot master would not exit"
	}
	# Children exit once the master is gone; give them the same bound.
	# Their titles name the instance, their command lines the conf.
	names=("$(instance_name "$dir")/" "$dir/dovecot.conf")
	poll "$WAIT" no_procs_naming "${names[@]}" ||
		die "$dir: processes still running: $(procs_naming "${names[@]}")"
	echo "$PROG: $dir: stopped"
}

cmd_adduser() {
	[ $# -ge 2 ] && [ $# -le 3 ] || usage
	local dir users
	dir=$(existing_dir "$1") || exit 1
	add_user "$dir" "$2" "${3:-${TEST_PASSWORD:-secret}}"
	# passwd-file is re-read when it changes: no restart needed.
	if [ -f "$dir/server.env" ]; then
		users=$(passwd_users "$dir")
		sed "s/^USERS=.*/USERS=$(shell_quote "$users")/" \
			"$dir/server.env" >"$dir/server.env.tmp" &&
			mv "$dir/server.env.tmp" "$dir/server.env" ||
			die "$dir/server.env: cannot update"
	fi
	echo "$PROG: user $2 added"
}

cmd_populate() {
	[ $# -ge 4 ] && [ $# -le 5 ] || usage
	local dir
	dir=$(existing_dir "$1") || exit 1
	valid_user "$2" || die "invalid user name '$2'"
	[ -f "$dir/passwd" ] && grep -q "^$2:" "$dir/passwd" ||
		die "$2: no such user in $dir/passwd (use adduser)"
	set_identities
	sh "$SCRIPT_DIR/gen-mail.sh" "$dir/mail/$2" "$3" "$4" "${5:-1}" ||
		die "gen-mail.sh failed"
	if [ "$(id -u)" -eq 0 ]; then
		chown -R "$MAIL_USER:$MAIL_GROUP" "$dir/mail/$2" ||
			die "$dir/mail/$2: cannot chown to $MAIL_USER:$MAIL_GROUP"
	fi
}

dispatch "$@"
