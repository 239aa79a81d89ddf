# shellcheck shell=bash
# Pieces shared by the private test servers other than Dovecot
# (test-server-courier.sh, test-server-cyrus.sh, test-server-mailutils.sh);
# sourced, never run. The caller sets PROG and HOST before sourcing.
#
#   die MSG...                  message on stderr, exit 1
#   absolute_dir DIR            create DIR, print it absolute, symlink-free
#   shell_quote S               S quoted for sh
#   valid_user NAME             letters, digits and ._@- only
#   env_value DIR VAR           VAR from DIR/server.env
#   pick_ports                  IMAP_PORT and IMAPS_PORT, free, distinct
#   port_answers PORT           something listens on HOST:PORT
#   make_certs DIR/tls          a CA and a certificate for 127.0.0.1
#   pid_alive PID               the process exists
#   wait_gone PID SECONDS       0 once PID has exited
#   stop_pid PID                TERM, then KILL after WAIT seconds
#   deb_root NAME               where the extracted NAME .deb lives
#   imap_populate PORT USER PASSWORD SEP PREFIX N FOLDERS SEED
#                               gen-mail.sh's corpus APPENDed over IMAP
#   imap_name FOLDER SEP PREFIX the server's name of a gen-mail folder

die() {
	echo "$PROG: $*" >&2
	exit 1
}

absolute_dir() {
	mkdir -p "$1" || die "$1: cannot create directory"
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

make_certs() {
	local tls=$1
	[ -s "$tls/ca.pem" ] && [ -s "$tls/localhost.pem" ] && return 0
	mkdir -p "$tls" && chmod 700 "$tls" || die "$tls: cannot create"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
		-nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 3650 \
		-subj "/CN=twinbox test CA" \
		-addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		2>>"$tls/openssl.log" || die "openssl could not make the CA"
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

wait_gone() {
	local pid=$1 i=0
	while [ $i -lt $(($2 * 10)) ]; do
		pid_alive "$pid" || return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

stop_pid() {
	pid_alive "$1" || return 0
	kill -TERM "$1" 2>/dev/null
	wait_gone "$1" "$WAIT" && return 0
	echo "$PROG: pid $1 ignored TERM for ${WAIT}s; sending KILL" >&2
	kill -KILL "$1" 2>/dev/null
	wait_gone "$1" "$WAIT"
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
