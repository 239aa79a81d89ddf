# shellcheck shell=bash
# How scripts/bench.sh installs, configures and runs each tool it times:
# twinbox, and the peers mbsync (isync) and interimap. Sourced by bench.sh,
# never run; it uses bench.sh's die and say, and its WORK, ROOT, TWINBOX,
# USER_NAME, PASSWORD, MAIL_OWNER and COMPRESS.
#
#   need_peer PEER              the peer's programs are there, or (as root)
#                               installed from its Debian package, or die
#   peer_version PEER           "name version" for the report
#   prepare_copy TOOL           an empty copy in WORK/TOOL (interimap: its
#                               local Dovecot's configuration too)
#   write_config TOOL PORT      the tool's configuration for the server
#                               behind 127.0.0.1:PORT (the relay)
#   tool_command TOOL [ROW]     the command line of one run
#
# Every tool reaches the server through the relay only. interimap syncs an
# IMAP server with another IMAP server, so its local side is Dovecot's
# `imap` binary over its own Maildir, run as a PREAUTH tunnel through
# `doveadm exec imap` (no network, nothing timed but interimap itself and
# what it waits for); as root the tunnel runs as the mail account, because
# Dovecot refuses to give root access to mail.

peer_package() {
	case $1 in
	mbsync) echo isync ;;
	interimap) echo interimap ;;
	esac
}

# The programs a peer needs besides itself.
peer_programs() {
	case $1 in
	mbsync) echo mbsync ;;
	interimap)
		echo "interimap doveadm"
		[ "$(id -u)" -eq 0 ] && echo setpriv ;;
	esac
}

missing_programs() {
	local p
	for p in $(peer_programs "$1"); do
		command -v "$p" >/dev/null 2>&1 || echo "$p"
	done
}

need_peer() {
	local peer=$1 pkg missing
	pkg=$(peer_package "$peer")
	missing=$(missing_programs "$peer")
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		say "$peer needs $(echo "$missing" | tr '\n' ' ')(Debian package $pkg); as" \
			"root, run:"
		say "  apt-get update && apt-get install -y $pkg"
		die "or leave $peer out of BENCH_PEERS"
	fi
	say "installing $pkg ($peer)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends "$pkg" </dev/null >&2 || {
		apt-get update -q </dev/null >&2 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
				--no-install-recommends "$pkg" </dev/null >&2
	} || die "apt-get install $pkg failed; or leave $peer out of BENCH_PEERS"
	missing=$(missing_programs "$peer")
	[ -z "$missing" ] || die "$peer: still missing: $missing"
}

peer_version() {
	case $1 in
	mbsync) mbsync --version ;;
	interimap) interimap --version 2>&1 | head -n 1 |
		sed 's/^[^ ]*interimap version/interimap/' ;;
	esac
}

# The account that owns the mail of interimap's local side, and the prefix
# that runs a command as that account (nothing when not root).
local_account() {
	if [ "$(id -u)" -eq 0 ]; then
		echo "$MAIL_OWNER"
	else
		echo "$(id -un):$(id -gn)"
	fi
}

# Dovecot's imap binary, run without a login, takes its user from USER.
as_local_account() {
	local acct
	acct=$(local_account)
	[ "$(id -u)" -eq 0 ] &&
		printf 'setpriv --reuid=%s --regid=%s --clear-groups ' \
			"${acct%%:*}" "${acct#*:}"
	echo "env USER=${acct%%:*}"
}

# Dovecot's settings for interimap's local side: a Maildir++ tree in
# WORK/interimap/mail with "/" as separator, its own base, state and log
# directories, and Dovecot's default mail_fsync (optimized).
write_local_conf() {
	local dir=$1 acct
	acct=$(local_account)
	cat >"$dir/local.conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
mail_location = maildir:$dir/mail
mail_home = $dir/home
mail_uid = ${acct%%:*}
mail_gid = ${acct#*:}
first_valid_uid = 0
ssl = no
namespace inbox {
  inbox = yes
  separator = /
}
CONF
}

prepare_copy() {
	local tool=$1 dir=$WORK/$1
	mkdir -p "$dir/mail" || die "$dir/mail: cannot create"
	[ "$tool" = interimap ] || return 0
	mkdir -p "$dir/run" "$dir/state" "$dir/home" ||
		die "$dir: cannot create the local Dovecot's directories"
	write_local_conf "$dir" || die "$dir/local.conf: cannot write"
	[ "$(id -u)" -eq 0 ] || return 0
	chown -R "$(local_account)" "$dir" ||
		die "$dir: cannot chown to $(local_account)"
}

# The same configuration for twinbox and mbsync, in mbsync 1.4's syntax
# except for the TLS keyword (twinbox reads both; SSLType is the older
# spelling). Neither has a switch for COMPRESS=DEFLATE: both use it when
# the server offers it.
write_mbsync_style() {
	local tool=$1 port=$2 dir=$WORK/$1 tls="TLSType None"
	[ "$tool" = mbsync ] && tls="SSLType None"
	cat >"$dir/sync.rc" <<RC
FSync yes

IMAPAccount bench
Host 127.0.0.1
Port $port
User $USER_NAME
Pass $PASSWORD
$tls
AuthMechs LOGIN

IMAPStore server
Account bench

MaildirStore local
Path $dir/mail/
Inbox $dir/mail/INBOX
SubFolders Verbatim

Channel bench
Far :server:
Near :local:
Patterns *
Create Near
Expunge None
SyncState *
RC
}

# interimap's remote side is the relay; compress follows BENCH_COMPRESS
# (interimap's default for the remote side is YES).
write_interimap() {
	local port=$1 dir=$WORK/interimap compress=NO
	[ "$COMPRESS" = 1 ] && compress=YES
	cat >"$dir/interimap.conf" <<CONF
database = $dir/interimap.db

[local]
type = tunnel
command = $(as_local_account) doveadm -c $dir/local.conf exec imap
null-stderr = YES

[remote]
type = imap
host = 127.0.0.1
port = $port
username = $USER_NAME
password = $PASSWORD
STARTTLS = NO
compress = $compress
CONF
}

write_config() {
	case $1 in
	interimap) write_interimap "$2" ;;
	*) write_mbsync_style "$1" "$2" ;;
	esac
}

# tool_command TOOL [ROW]: the verify row runs twinbox --verify.
tool_command() {
	case $1 in
	twinbox) [ "${2:-}" = verify ] &&
		echo "$TWINBOX -c $WORK/twinbox/sync.rc --verify -a" ||
		echo "$TWINBOX -c $WORK/twinbox/sync.rc -a" ;;
	mbsync) echo "mbsync -c $WORK/mbsync/sync.rc -a" ;;
	interimap) echo "interimap --config=$WORK/interimap/interimap.conf" ;;
	esac
}
