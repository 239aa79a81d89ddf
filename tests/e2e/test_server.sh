#!/bin/bash
# End-to-end test of scripts/test-server.sh and scripts/gen-mail.sh against
# a real Dovecot: logins over IMAP, STARTTLS and IMAPS with certificate
# verification, a host name mismatch, generated mail seen through IMAP,
# port retry, adding a user, and a clean stop. Every network step and every
# start/stop is bounded by timeout. Run from the top of the tree.
# tests/run-all.sh runs this with sh: re-run under bash for /dev/tcp.
if [ -z "${BASH_VERSION:-}" ]; then
	exec bash "$0" "$@"
fi
set -u

# Hermetic: the caller's settings for the scripts do not apply here.
unset TEST_PASSWORD TEST_SERVER_CERT TEST_SERVER_COMPRESS TEST_SERVER_NOTIFY \
	TEST_SERVER_FAST TEST_SERVER_CAPS TEST_SERVER_SEPARATOR TEST_SERVER_PORTS TEST_SERVER_WAIT
cd "$(dirname "$0")/../.." || exit 1

SERVER=scripts/test-server.sh
GEN=scripts/gen-mail.sh
passed=0
failed=0
TMP=""

pass() {
	echo "ok: $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL: $1" >&2
	[ $# -ge 2 ] && printf '%s\n' "$2" | sed 's/^/    /' >&2
	failed=$((failed + 1))
}

# check DESCRIPTION COMMAND...: pass when the command succeeds.
check() {
	local what=$1
	shift
	if "$@" >"$TMP/check.out" 2>&1; then
		pass "$what"
	else
		fail "$what" "$(cat "$TMP/check.out")"
	fi
}

cleanup() {
	local d
	for d in "$TMP"/*/; do
		[ -f "$d/server.env" ] || continue
		timeout 30 bash "$SERVER" stop "$d" >/dev/null 2>&1
	done
	[ -n "$TMP" ] && rm -rf "$TMP"
}

finish() {
	cleanup
	echo "test_server: $passed passed, $failed failed"
	# A bare exit in a trap would keep the status from before the trap.
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

# imap PORT LINE...: a plain IMAP session; sends the lines (tags included)
# after the greeting and prints everything until the server closes.
imap() {
	timeout 10 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
		printf "%s\r\n" "$@" >&3; cat <&3' "$@" | tr -d '\r'
}

# tls PORT MODE VERIFY_OPTS LINE...: the same over TLS (MODE imaps or
# starttls), verifying the certificate against the instance's CA.
tls() {
	local port=$1 mode=$2 verify=$3 extra=""
	shift 3
	[ "$mode" = starttls ] && extra="-starttls imap"
	printf '%s\r\n' "$@" | timeout 10 openssl s_client -quiet \
		-verify_return_error -CAfile "$CA_FILE" $verify $extra \
		-connect "127.0.0.1:$port" 2>&1 | tr -d '\r'
}

load_env() {
	# shellcheck disable=SC1090
	. "$1/server.env"
}

start() {
	timeout 60 bash "$SERVER" start "$@" >"$TMP/start.out" 2>&1
}

# The pids of processes whose title or command line names the instance.
instance_procs() {
	ps -eo pid=,args= | TBT_INST="$1/" TBT_CONF="$2" awk \
		'index($0, ENVIRON["TBT_INST"]) || index($0, ENVIRON["TBT_CONF"]) {
			print $1
		}'
}

port_closed() {
	! timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

count_files() {
	find "$1" -type f \( -path '*/cur/*' -o -path '*/new/*' \) | wc -l
}

test_env_file() {
	local v missing=""
	for v in IMAP_PORT IMAPS_PORT CA_FILE USERS PASSWORD MAIL_DIR LOG; do
		[ -n "${!v:-}" ] || missing="$missing $v"
	done
	if [ -z "$missing" ] && [ "$USERS" = "alice bob" ] &&
		[ "$PASSWORD" = secret ] && [ -s "$CA_FILE" ]; then
		pass "server.env lists ports, CA, users alice bob, password"
	else
		fail "server.env incomplete:$missing" "$(cat "$A/server.env")"
	fi
}

test_plain_login() {
	local out
	out=$(imap "$IMAP_PORT" "a LOGIN alice secret" "b LOGOUT")
	if printf '%s\n' "$out" | grep -q '^a OK .*Logged in$'; then
		pass "plain IMAP login as alice"
	else
		fail "plain IMAP login as alice" "$out"
	fi
	out=$(imap "$IMAP_PORT" "a LOGIN alice wrong" "b LOGOUT")
	if printf '%s\n' "$out" |
		grep -qx 'a NO \[AUTHENTICATIONFAILED\] Authentication failed.'; then
		pass "plain IMAP login with a wrong password is refused"
	else
		fail "plain IMAP login with a wrong password is refused" "$out"
	fi
}

test_tls_logins() {
	local out
	out=$(tls "$IMAPS_PORT" imaps "-verify_ip 127.0.0.1" \
		"a LOGIN bob secret" "b LOGOUT")
	if printf '%s\n' "$out" | grep -q '^a OK .*Logged in$'; then
		pass "IMAPS login, certificate verified for IP 127.0.0.1"
	else
		fail "IMAPS login, certificate verified for IP 127.0.0.1" "$out"
	fi
	out=$(tls "$IMAP_PORT" starttls "-verify_hostname localhost" \
		"a LOGIN alice secret" "b LOGOUT")
	if printf '%s\n' "$out" | grep -q '^a OK .*Logged in$'; then
		pass "STARTTLS login, certificate verified for localhost"
	else
		fail "STARTTLS login, certificate verified for localhost" "$out"
	fi
}

test_wrong_host() {
	local out rc
	if ! TEST_SERVER_CERT=wrong-host TEST_SERVER_COMPRESS=1 \
		TEST_SERVER_NOTIFY=1 TEST_SERVER_FAST=1 start "$TMP/wrong"; then
		fail "start an instance with the wrong-host certificate" \
			"$(cat "$TMP/start.out")"
		return
	fi
	pass "start an instance with the wrong-host certificate"
	(
		load_env "$TMP/wrong"
		out=$(tls "$IMAPS_PORT" imaps "-verify_ip 127.0.0.1" "a LOGOUT")
		if printf '%s\n' "$out" | grep -q "IP address mismatch" &&
			! printf '%s\n' "$out" | grep -q '^a OK'; then
			pass "IMAPS verification for 127.0.0.1 fails on wrong-host"
		else
			fail "IMAPS verification for 127.0.0.1 fails on wrong-host" "$out"
		fi
		out=$(tls "$IMAPS_PORT" imaps "-verify_hostname wrong.example" \
			"a LOGOUT")
		if printf '%s\n' "$out" | grep -q '^a OK Logout completed'; then
			pass "the same certificate verifies for wrong.example"
		else
			fail "the same certificate verifies for wrong.example" "$out"
		fi
		out=$(imap "$IMAP_PORT" "a LOGIN alice secret" "b LOGOUT")
		if printf '%s\n' "$out" | grep -q '^a OK .* COMPRESS=DEFLATE.*\]'; then
			pass "TEST_SERVER_COMPRESS=1 offers COMPRESS=DEFLATE"
		else
			fail "TEST_SERVER_COMPRESS=1 offers COMPRESS=DEFLATE" "$out"
		fi
		out=$(doveconf -c "$TMP/wrong/dovecot.conf" -h mail_plugins 2>&1)
		if [ "$out" = " notify" ]; then
			pass "TEST_SERVER_NOTIFY=1 loads the notify plugin"
		else
			fail "TEST_SERVER_NOTIFY=1 loads the notify plugin" "$out"
		fi
		test_fast_conf "$TMP/wrong/dovecot.conf"
		echo "$passed $failed" >"$TMP/counts"
	)
	read -r passed failed <"$TMP/counts"
	timeout 30 bash "$SERVER" stop "$TMP/wrong" >/dev/null 2>&1
}

# TEST_SERVER_FAST=1, as Dovecot reads it: the login service reuses its
# processes, two ready; imap processes reused, four ready. (The logins
# above went through this instance.)
test_fast_conf() {
	local out
	out=$(doveconf -c "$1" -n 2>&1 | awk '
		/^service imap(-login)? \{/ { svc = $2; next }
		/^}/ { svc = "" }
		svc != "" && /service_count|process_min_avail/ {
			print svc, $1, $3
		}' | sort | tr '\n' ' ')
	if [ "$out" = "imap process_min_avail 4 imap service_count 100 imap-login process_min_avail 2 imap-login service_count 0 " ]; then
		pass "TEST_SERVER_FAST=1 keeps login and imap processes ready"
	else
		fail "TEST_SERVER_FAST=1 keeps login and imap processes ready" \
			"$out"
	fi
}

select_exists() {
	imap "$IMAP_PORT" "a LOGIN $1 secret" "b SELECT $2" "c LOGOUT" |
		sed -n 's/^\* \([0-9]*\) EXISTS$/\1/p'
}

test_populate() {
	local n out total
	if ! timeout 60 bash "$SERVER" populate "$A" alice 40 1 7 \
		>"$TMP/pop.out" 2>&1; then
		fail "populate alice with 40 messages" "$(cat "$TMP/pop.out")"
		return
	fi
	n=$(select_exists alice INBOX)
	if [ "$n" = 40 ]; then
		pass "SELECT INBOX shows the 40 generated messages"
	else
		fail "SELECT INBOX shows the 40 generated messages (got '$n')"
	fi
	timeout 60 bash "$SERVER" populate "$A" bob 60 4 3 >/dev/null 2>&1
	out=$(imap "$IMAP_PORT" "a LOGIN bob secret" \
		'b LIST "" "*" RETURN (STATUS (MESSAGES))' "c LOGOUT")
	total=$(printf '%s\n' "$out" |
		sed -n 's/^\* STATUS .*(MESSAGES \([0-9]*\))$/\1/p' |
		awk '{ s += $1 } END { print s + 0 }')
	if [ "$total" = 60 ] && printf '%s\n' "$out" |
		grep -q '^\* LIST .* Entw&APw-rfe$'; then
		pass "60 messages over 4 folders, Entwürfe among them"
	else
		fail "60 messages over 4 folders, Entwürfe among them" "$out"
	fi
	if [ "$(id -u)" -eq 0 ]; then
		out=$(find "$MAIL_DIR/bob" ! -user nobody | head -3)
		if [ -z "$out" ]; then
			pass "populate gives the mail tree to the mail account"
		else
			fail "populate gives the mail tree to the mail account" "$out"
		fi
	fi
}

test_gen_determinism() {
	local g=$TMP/gen
	sh "$GEN" "$g/a" 300 5 42 && sh "$GEN" "$g/b" 300 5 42 &&
		sh "$GEN" "$g/c" 300 5 43 || {
		fail "gen-mail.sh runs"
		return
	}
	check "gen-mail.sh: same seed, identical trees" diff -r "$g/a" "$g/b"
	check "gen-mail.sh: another seed, another corpus" \
		bash -c "! diff -rq '$g/a' '$g/c' >/dev/null"
	check "gen-mail.sh: 300 files written" \
		[ "$(count_files "$g/a")" -eq 300 ]
	check "gen-mail.sh: 300 distinct Message-IDs" \
		[ "$(cat "$g"/a/cur/* "$g"/a/new/* "$g"/a/.*/cur/* \
		"$g"/a/.*/new/* 2>/dev/null | grep '^Message-ID:' |
		sort -u | wc -l)" -eq 300 ]
	check "gen-mail.sh: non-ASCII folder in modified UTF-7" \
		[ -f "$g/a/.Entw&APw-rfe/maildirfolder" ]
	check "gen-mail.sh: a bad count is refused" \
		bash -c "! sh '$GEN' '$g/d' 12x 3 2>/dev/null"
}

test_port_retry() {
	local b=$TMP/retry
	local out
	if ! TEST_SERVER_PORTS="$IMAP_PORT $IMAPS_PORT" \
		TEST_SERVER_CAPS="IMAP4rev1 LITERAL+ UIDPLUS" start "$b"; then
		fail "start on taken ports retries elsewhere" "$(cat "$TMP/start.out")"
		return
	fi
	if grep -q "is taken; trying others" "$TMP/start.out" &&
		[ "$(sed -n 's/^IMAP_PORT=//p' "$b/server.env")" != "$IMAP_PORT" ]; then
		pass "start on taken ports retries elsewhere"
	else
		fail "start on taken ports retries elsewhere" "$(cat "$TMP/start.out")"
	fi
	out=$(imap "$(sed -n 's/^IMAP_PORT=//p' "$b/server.env")" \
		"a LOGIN alice secret" "b CAPABILITY" "c LOGOUT")
	if printf '%s\n' "$out" | grep -qx '\* CAPABILITY IMAP4rev1 LITERAL+ UIDPLUS'
	then
		pass "TEST_SERVER_CAPS sets the capability list"
	else
		fail "TEST_SERVER_CAPS sets the capability list" "$out"
	fi
	timeout 30 bash "$SERVER" stop "$b" >/dev/null 2>&1
}

test_adduser() {
	local out
	timeout 10 bash "$SERVER" adduser "$A" carol hunter2 >/dev/null 2>&1
	out=$(imap "$IMAP_PORT" "a LOGIN carol hunter2" "b LOGOUT")
	if printf '%s\n' "$out" | grep -q '^a OK .*Logged in$' &&
		grep -qx "USERS='alice bob carol'" "$A/server.env"; then
		pass "adduser: carol logs in without a restart"
	else
		fail "adduser: carol logs in without a restart" "$out"
	fi
}

test_stop() {
	local out left
	check "status reports a running instance" \
		timeout 10 bash "$SERVER" status "$A"
	if ! out=$(timeout 60 bash "$SERVER" stop "$A" 2>&1); then
		fail "stop" "$out"
		return
	fi
	left=$(instance_procs "$INSTANCE" "$A/dovecot.conf")
	if [ -z "$left" ]; then
		pass "stop leaves no process of the instance"
	else
		fail "stop leaves no process of the instance" "$left"
	fi
	check "IMAP port $IMAP_PORT closed after stop" port_closed "$IMAP_PORT"
	check "IMAPS port $IMAPS_PORT closed after stop" port_closed "$IMAPS_PORT"
	timeout 10 bash "$SERVER" status "$A" >/dev/null
	check "status exits 3 once stopped" [ $? -eq 3 ]
	check "stop of a stopped instance succeeds" \
		timeout 10 bash "$SERVER" stop "$A"
}

trap finish EXIT
trap 'fail "interrupted"; exit 1' INT TERM HUP
TMP=$(mktemp -d) || exit 1
chmod 755 "$TMP"
A=$TMP/a
if ! start "$A"; then
	fail "start a private Dovecot" "$(cat "$TMP/start.out")"
	exit 1
fi
pass "start a private Dovecot"
load_env "$A"
test_env_file
test_plain_login
test_tls_logins
test_wrong_host
test_populate
test_gen_determinism
test_port_retry
test_adduser
test_stop
