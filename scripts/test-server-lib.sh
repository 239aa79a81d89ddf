# shellcheck shell=bash
# Pieces shared by the private test servers (test-server.sh,
# test-server-courier.sh, test-server-cyrus.sh, test-server-mailutils.sh);
# sourced, never run. The caller sets PROG, HOST and WAIT before sourcing,
# and defines usage and its cmd_start, cmd_stop, cmd_adduser and
# cmd_populate for dispatch.
#
#   die MSG...                  message on stderr, exit 1
#   absolute_dir DIR            create DIR, print it absolute, symlink-free
#   existing_dir DIR            DIR absolute and symlink-free, or die
#   shell_quote S               S quoted for sh
#   valid_user NAME             letters, digits and ._@- only
#   env_value DIR VAR           VAR from DIR/server.env
#   random_port, port_in_use PORT
#   pick_ports                  IMAP_PORT and IMAPS_PORT, free, distinct
#   port_answers PORT           something listens on HOST:PORT
#   wait_up PIDFN DIR           PIDFN DIR prints a pid and both ports
#                               answer, within WAIT seconds
#   make_ca DIR/tls             a CA, ca.pem and ca.key
#   make_certs DIR/tls          a CA and a certificate for 127.0.0.1
#   write_server_env DIR KIND USERS LINE...
#                               DIR/server.env: the core variables, then
#                               the LINEs
#   poll SECONDS COMMAND...     0 once COMMAND succeeds, tried every 0.1 s
#   pid_alive PID               the process exists
#   pid_from FILE MATCH         the pid in FILE, when that process runs
#                               with MATCH in its command line
#   wait_gone PID SECONDS       0 once PID has exited
#   stop_pid PID                TERM, then KILL after WAIT seconds
#   procs_naming TEXT...        pids of the processes whose command line
#                               holds one of the TEXTs
#   stop_instance PIDFN DIR CONF WHAT
#                               the daemon PIDFN DIR prints stopped, then
#                               every process naming CONF gone, or die
#   close_inherited_fds         close every descriptor above 2
#   spawn DIR LOG COMMAND...    COMMAND run in DIR, with no descriptor of
#                               the caller's, its output appended to LOG
#   cmd_status DIR              "running (pid, ports)" or "stopped", exit 3
#                               (PID_OF names the script's pid function)
#   cmd_populate DIR USER N FOLDERS [SEED]
#                               imap_populate into a running instance,
#                               with server.env's NS_SEP, NS_PREFIX and
#                               LOGIN_SUFFIX
#   dispatch COMMAND ARGS...    the command line of every server script
#   deb_root NAME               where the extracted NAME .deb lives
#   imap_populate PORT USER PASSWORD SEP PREFIX N FOLDERS SEED
#                               gen-mail.sh's corpus APPENDed over IMAP
#   imap_name FOLDER SEP PREFIX the server's name of a gen-mail folder

die() {
	echo "$PROG: $*" >&2
	exit 1
}

# An absolute, symlink-free path, so that the configuration, the pid check
# and server.env agree whatever the caller's working directory.
absolute_dir() {
	mkdir -p "$1" || die "$1: cannot create directory"
	(cd "$1" && pwd -P) || die "$1: cannot enter directory"
}

existing_dir() {
	[ -d "$1" ] || die "$1: no such directory"
	(cd "$1" && pwd -P) || die "$1: cannot enter directory"
}

shell_quote() {
	printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"
}

valid_user() {
	case "$1" in
	'' | *[!A-Za-z0-9._@-]*) return 1 ;;
	esac
	return 0
}

env_value() {
	[ -f "$1/server.env" ] || return 1
	(
		. "$1/server.env" 2>/dev/null || exit 1
		eval "printf '%s' \"\${$2:-}\""
	)
}

random_port() {
	# Below the kernel's ephemeral range, so that outgoing connections
	# rarely hold the port we pick.
	echo $((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 12000))
}

port_in_use() {
	command -v ss >/dev/null 2>&1 || return 1
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

pick_ports() {
	IMAP_PORT=$(random_port)
	while port_in_use "$IMAP_PORT"; do IMAP_PORT=$(random_port); done
	IMAPS_PORT=$(random_port)
	while [ "$IMAPS_PORT" = "$IMAP_PORT" ] || port_in_use "$IMAPS_PORT"; do
		IMAPS_PORT=$(random_port)
	done
}

port_answers() {
	timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

instance_up() {
	"$1" "$2" >/dev/null && port_answers "$IMAP_PORT" &&
		port_answers "$IMAPS_PORT"
}

wait_up() {
	poll "$WAIT" instance_up "$@"
}

make_ca() {
	local tls=$1
	mkdir -p "$tls" && chmod 700 "$tls" || die "$tls: cannot create"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 3650 \
		-subj "/CN=twinbox test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>>"$tls/openssl.log" ||
		die "openssl could not make the CA; see $tls/openssl.log"
}

make_certs() {
	local tls=$1
	[ -s "$tls/ca.pem" ] && [ -s "$tls/localhost.pem" ] && return 0
	make_ca "$tls"
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$tls/localhost.key" -out "$tls/localhost.csr" \
		-subj "/CN=twinbox test localhost" 2>>"$tls/openssl.log" ||
		die "openssl could not make the server key"
	printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		"basicConstraints=CA:FALSE" "extendedKeyUsage=serverAuth" \
		>"$tls/localhost.ext"
	openssl x509 -req -in "$tls/localhost.csr" -CA "$tls/ca.pem" \
		-CAkey "$tls/ca.key" -set_serial "0x$(od -An -N8 -tx1 \
		/dev/urandom | tr -d ' \n')" -days 3650 \
		-extfile "$tls/localhost.ext" -out "$tls/localhost.pem" \
		2>>"$tls/openssl.log" ||
		die "openssl could not make the server certificate"
	rm -f "$tls/localhost.csr" "$tls/localhost.ext"
	chmod 644 "$tls/ca.pem"
}

# A zombie is gone: where nothing reaps orphans (a container's init) an
# exited daemon can stay one.
pid_alive() {
	local state
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
	[ -n "$state" ] && [ "$state" != Z ]
}

poll() {
	local i=0 limit=$(($1 * 10))
	shift
	while [ $i -lt $limit ]; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# A stale pid file must never make us signal some unrelated process.
pid_from() {
	local pid
	pid=$(tr -dc 0-9 2>/dev/null <"$1")
	pid_alive "$pid" || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -qF -- "$2" || return 1
	echo "$pid"
}

pid_gone() {
	! pid_alive "$1"
}

wait_gone() {
	poll "$2" pid_gone "$1"
}

stop_pid() {
	pid_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	wait_gone "$1" "$WAIT" && return 0
	echo "$PROG: pid $1 ignored TERM for ${WAIT}s; sending KILL" >&2
	kill -KILL "$1" 2>/dev/null
	wait_gone "$1" "$WAIT"
}

procs_naming() {
	# The texts through the environment: in awk's arguments they would
	# match the awk process itself.
	ps -eo pid=,args= | TBT_TEXTS=$(printf '%s\n' "$@") awk '
	BEGIN { n = split(ENVIRON["TBT_TEXTS"], texts, "\n") }
	{
		for (i = 1; i <= n; i++)
			if (index($0, texts[i])) {
				print $1
				next
			}
	}'
}

no_procs_naming() {
	[ -z "$(procs_naming "$@")" ]
}

stop_instance() {
	local pidfn=$1 dir=$2 conf=$3 what=$4 pid
	pid=$("$pidfn" "$dir") && { stop_pid "$pid" ||
		die "$what $pid would not exit"; }
	poll "$WAIT" no_procs_naming "$conf" ||
		die "$dir: processes still running: $(procs_naming "$conf")"
}

close_inherited_fds() {
	local fd
	for fd in /proc/$BASHPID/fd/*; do
		fd=${fd##*/}
		[ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-"
	done
	return 0
}

spawn() {
	local dir=$1 log=$2
	shift 2
	(
		cd "$dir" || exit 1
		close_inherited_fds
		exec "$@" </dev/null >>"$log" 2>&1
	)
}

write_server_env() {
	local dir=$1 kind=$2 users=$3
	shift 3
	{
		echo "# Written by $PROG.sh start; sourced by tests."
		echo "SERVER_KIND=$kind"
		echo "IMAP_HOST=$HOST"
		echo "IMAP_PORT=$IMAP_PORT"
		echo "IMAPS_PORT=$IMAPS_PORT"
		echo "CA_FILE=$(shell_quote "$dir/tls/ca.pem")"
		echo "CERT_NAME=localhost"
		echo "USERS=$(shell_quote "$users")"
		echo "PASSWORD=$(shell_quote "$PASSWORD")"
		printf '%s\n' "$@"
	} >"$dir/server.env.tmp" && mv "$dir/server.env.tmp" "$dir/server.env"
}

cmd_status() {
	[ $# -eq 1 ] || usage
	local dir pid
	[ -d "$1" ] || { echo "$PROG: $1: stopped"; exit 3; }
	dir=$(cd "$1" && pwd -P)
	pid=$("$PID_OF" "$dir") || { echo "$PROG: $dir: stopped"; exit 3; }
	echo "$PROG: $dir: running (pid $pid, imap $HOST:$(env_value "$dir" \
IMAP_PORT), imaps $HOST:$(env_value "$dir" IMAPS_PORT))"
}

cmd_populate() {
	[ $# -ge 4 ] && [ $# -le 5 ] || usage
	local dir
	dir=$(existing_dir "$1") || exit 1
	"$PID_OF" "$dir" >/dev/null || die "$dir: not running"
	(
		# shellcheck source=/dev/null
		. "$dir/server.env"
		imap_populate "$IMAP_PORT" "$2${LOGIN_SUFFIX:-}" "$PASSWORD" \
			"$NS_SEP" "$NS_PREFIX" "$3" "$4" "${5:-1}"
	)
}

dispatch() {
	[ $# -ge 1 ] || usage
	local cmd=$1
	shift
	case "$cmd" in
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	status) cmd_status "$@" ;;
	adduser) cmd_adduser "$@" ;;
	populate) cmd_populate "$@" ;;
	*) usage ;;
	esac
}

# The extracted packages live in TWINBOX_SERVER_CACHE (default
# /var/cache/twinbox-test), put there by scripts/install-deps.sh --servers.
deb_root() {
	local root=${TWINBOX_SERVER_CACHE:-/var/cache/twinbox-test}/$1
	[ -e "$root/.extracted" ] ||
		die "$root: the extracted $1 package is missing" \
			"(run scripts/install-deps.sh --servers as root)"
	echo "$root"
}

# A gen-mail folder (INBOX, Archive, Lists.dev) as the server names it.
imap_name() {
	local folder=$1 sep=$2 prefix=$3
	[ "$folder" = INBOX ] && { echo INBOX; return 0; }
	printf '%s%s\n' "$prefix" "$(printf '%s' "$folder" | tr . "$sep")"
}

# Flags of a Maildir file name as an IMAP list.
maildir_flags() {
	local info=${1##*:2,} out=
	case "$1" in *:2,*) ;; *) info= ;; esac
	case "$info" in *D*) out="$out \\Draft" ;; esac
	case "$info" in *F*) out="$out \\Flagged" ;; esac
	case "$info" in *R*) out="$out \\Answered" ;; esac
	case "$info" in *S*) out="$out \\Seen" ;; esac
	case "$info" in *T*) out="$out \\Deleted" ;; esac
	echo "(${out# })"
}

# gen-mail.sh's corpus into a scratch Maildir, then each folder created and
# each message APPENDed with its flags, in file name order. INBOX comes
# last, SELECTed first: mailutils refuses an APPEND to an INBOX never
# selected (and drops the flags of every APPEND after a SELECT).
imap_populate() {
	local port=$1 user=$2 pass=$3 sep=$4 prefix=$5 n=$6 folders=$7 seed=$8
	local src d folder name f imapc
	imapc=${IMAPC:-$SCRIPT_DIR/../${BUILD:-build}/tests/tools/imapc}
	[ -x "$imapc" ] || die "$imapc is missing (make build-all builds it)"
	src=$(mktemp -d) || die "mktemp failed"
	sh "$SCRIPT_DIR/gen-mail.sh" "$src" "$n" "$folders" "$seed" ||
		{ rm -rf "$src"; die "gen-mail.sh failed"; }
	for d in "$src"/.*/ "$src"; do
		d=${d%/}
		case "${d##*/}" in . | ..) continue ;; esac
		folder=${d##*/}
		folder=${folder#.}
		[ "$d" = "$src" ] && folder=INBOX
		name=$(imap_name "$folder" "$sep" "$prefix")
		if [ "$folder" = INBOX ]; then
			echo "?SELECT INBOX"
		else
			echo "?CREATE \"$name\""
		fi
		for f in $(cd "$d" && ls cur/* new/* 2>/dev/null | sort); do
			echo "@append $name $d/$f $(maildir_flags "$f")"
		done
	done >"$src.script"
	"$imapc" "$port" "$user" "$pass" <"$src.script" >"$src.out" 2>&1 ||
		{ tail -5 "$src.out" >&2; rm -rf "$src" "$src.script" "$src.out"
		  die "populate over IMAP failed"; }
	rm -rf "$src" "$src.script" "$src.out"
}
