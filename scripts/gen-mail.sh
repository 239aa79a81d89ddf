#!/bin/sh
# Generate a realistic, deterministic mail corpus in a Dovecot-layout
# Maildir++ tree: INBOX at the root, other folders as ".Name" directories
# with names in modified UTF-7 (one of them non-ASCII: "Entwürfe" is stored
# as ".Entw&APw-rfe").
#
#   gen-mail.sh MAILDIR_ROOT N FOLDERS [SEED]
#
# The same N, FOLDERS and SEED always give the same files, byte for byte.
# Messages are mostly 2-20 KB, some larger, and every 200th carries a
# base64 attachment of 0.2-2 MB; some are \Seen, \Flagged or \Answered,
# some wait unseen in new/. One awk process writes every file, so 20,000
# messages take seconds, not minutes. Files are written as the caller;
# as root, chown the tree to the mail account afterwards (test-server.sh
# populate does both). See docs/test-server.md.
set -u

die() {
	echo "gen-mail: $*" >&2
	exit 1
}

is_count() {
	case "$1" in
	'' | *[!0-9]*) return 1 ;;
	esac
	return 0
}

[ $# -ge 3 ] && [ $# -le 4 ] ||
	die "usage: gen-mail.sh MAILDIR_ROOT N FOLDERS [SEED]"
ROOT=$1
COUNT=$2
FOLDERS=$3
SEED=${4:-1}
is_count "$COUNT" || die "N must be a non-negative integer, not '$COUNT'"
is_count "$FOLDERS" && [ "$FOLDERS" -ge 1 ] ||
	die "FOLDERS must be a positive integer, not '$FOLDERS'"
is_count "$SEED" || die "SEED must be a non-negative integer, not '$SEED'"

# On-disk names, already in modified UTF-7; the first is INBOX (the root).
folder_name() {
	case "$1" in
	1) echo INBOX ;;
	2) echo "Entw&APw-rfe" ;;
	3) echo Archive ;;
	4) echo Sent ;;
	5) echo Lists ;;
	6) echo Lists.dev ;;
	7) echo Work ;;
	8) echo Trash ;;
	9) echo Receipts ;;
	10) echo Travel ;;
	*) echo "Folder$1" ;;
	esac
}

folder_path() {
	if [ "$1" = INBOX ]; then
		echo "$ROOT"
	else
		echo "$ROOT/.$1"
	fi
}

make_folders() {
	names=""
	i=1
	while [ "$i" -le "$FOLDERS" ]; do
		name=$(folder_name "$i")
		dir=$(folder_path "$name")
		mkdir -p "$dir/cur" "$dir/new" "$dir/tmp" ||
			die "$dir: cannot create maildir"
		if [ "$name" != INBOX ]; then
			: >"$dir/maildirfolder" || die "$dir/maildirfolder: cannot create"
		fi
		names="$names $name"
		i=$((i + 1))
	done
	echo "$names"
}

NAMES=$(make_folders) || exit 1

GEN_AWK=$(cat <<'AWK'
# Park-Miller "minimal standard" generator: every product stays below
# 2^46, exact in the doubles of any awk, so all awks give the same corpus.
function rnd() {
	rng = (rng * 16807) % 2147483647
	return rng / 2147483647
}

function pick(n) {
	return 1 + int(rnd() * n)
}

function load_words(s) {
	return split(s, words, " ")
}

function sentence(   n, s, k, w) {
	n = 5 + int(rnd() * 12)
	s = ""
	for (k = 1; k <= n; k++) {
		w = words[pick(nwords)]
		if (k == 1)
			w = toupper(substr(w, 1, 1)) substr(w, 2)
		s = s (k == 1 ? "" : " ") w
	}
	return s (rnd() < 0.15 ? "?" : ".")
}

# Wraps a run of sentences at 72 columns.
function paragraph(   n, k, out, line, s, m, parts, j) {
	n = 2 + int(rnd() * 6)
	out = ""
	line = ""
	for (k = 1; k <= n; k++) {
		s = sentence()
		m = split(s, parts, " ")
		for (j = 1; j <= m; j++) {
			if (line != "" && length(line) + 1 + length(parts[j]) > 72) {
				out = out line "\n"
				line = parts[j]
			} else
				line = line (line == "" ? "" : " ") parts[j]
		}
	}
	return out line "\n"
}

function b64_block(   k, j, line, out) {
	out = ""
	for (k = 1; k <= 16; k++) {
		line = ""
		for (j = 1; j <= 76; j++)
			line = line substr(B64, pick(64), 1)
		out = out line "\n"
	}
	return out
}

function build_pools(   k) {
	B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	NPARA = 400
	for (k = 1; k <= NPARA; k++) {
		para[k] = paragraph()
		html[k] = "<p>" substr(para[k], 1, length(para[k]) - 1) "</p>\n"
		para[k] = para[k] "\n"
	}
	NB64 = 64
	for (k = 1; k <= NB64; k++)
		b64[k] = b64_block()
	nfirst = split("Anna Ben Clara David Emma Felix Greta Hugo Ines Jonas " \
	    "Karin Lukas Marie Noah Olga Paul Rosa Simon Tara Ulrich " \
	    "Vera William Xenia Yusuf Zoe", first, " ")
	nlast = split("Schmidt Meyer Jones Garcia Rossi Dubois Novak Kim " \
	    "Tanaka Okafor Larsen Silva Weber Brown Fischer Moreau", last, " ")
	ndomain = split("example.org example.net example.com lists.example.org " \
	    "corp.example", domain, " ")
	nzone = split("+0000 +0100 +0200 -0500 -0800 +0530 +0900", zone, " ")
	split("Sun Mon Tue Wed Thu Fri Sat", wday, " ")
	split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", month, " ")
	ntopic = split("quarterly report|meeting notes|budget review|" \
	    "server migration|release plan|travel booking|invoice 2023|" \
	    "backup failure|team lunch|conference talk|contract draft|" \
	    "holiday schedule|build broken|new laptop|weekly status|" \
	    "=?UTF-8?Q?Entw=C3=BCrfe_f=C3=BCr_die_Pr=C3=A4sentation?=|" \
	    "=?UTF-8?B?w5xiZXJzaWNodCBkZXIgw4RuZGVydW5nZW4=?=|" \
	    "=?UTF-8?Q?R=C3=A9sum=C3=A9_and_caf=C3=A9_plans?=", topic, "|")
}

function person(   f, l) {
	f = first[pick(nfirst)]
	l = last[pick(nlast)]
	return f " " l " <" tolower(f) "." tolower(l) "@" domain[pick(ndomain)] ">"
}

function pad2(n) {
	return (n < 10 ? "0" : "") n
}

# Days since 1970-01-01 to a civil date, in the globals y, m, d.
function civil(z,   era, doe, yoe, doy, mp) {
	z += 719468
	era = int((z >= 0 ? z : z - 146096) / 146097)
	doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - \
	    int(doe / 146096)) / 365)
	y = yoe + era * 400
	doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153)
	d = doy - int((153 * mp + 2) / 5) + 1
	m = mp < 10 ? mp + 3 : mp - 9
	if (m <= 2)
		y++
}

function rfc_date(t,   z, off, local, days, secs) {
	z = zone[pick(nzone)]
	off = (substr(z, 1, 1) == "-" ? -1 : 1) * \
	    (substr(z, 2, 2) * 3600 + substr(z, 4, 2) * 60)
	local = t + off
	days = int(local / 86400)
	secs = local - days * 86400
	civil(days)
	return wday[(days + 4) % 7 + 1] ", " pad2(d) " " month[m] " " y " " \
	    pad2(int(secs / 3600)) ":" pad2(int(secs % 3600 / 60)) ":" \
	    pad2(secs % 60) " " z
}

# Mostly 2-20 KB, some larger, a few tiny.
function target_size(   r) {
	r = rnd()
	if (r < 0.04)
		return 300 + int(rnd() * 1700)
	if (r < 0.92)
		return 2048 + int(rnd() * 18432)
	return 20480 + int(rnd() * 80000)
}

function flags_for(folder,   f) {
	f = ""
	if (folder == "Entw&APw-rfe")
		f = f "D"
	if (rnd() < 0.06)
		f = f "F"
	if (rnd() < 0.72) {
		if (rnd() < 0.12)
			f = f "R"
		f = f "S"
	}
	if (folder == "Trash" && rnd() < 0.1)
		f = f "T"
	return f
}

function put(s) {
	printf "%s", s > path
	written += length(s)
}

function text_body(size,   k) {
	while (written < size)
		put(para[pick(NPARA)])
}

function alternative_body(size, bound,   k, n, start) {
	put("--" bound "\nContent-Type: text/plain; charset=utf-8\n" \
	    "Content-Transfer-Encoding: 8bit\n\n")
	start = written
	n = 0
	while (written - start < size / 2) {
		pidx[++n] = pick(NPARA)
		put(para[pidx[n]])
	}
	put("\n--" bound "\nContent-Type: text/html; charset=utf-8\n" \
	    "Content-Transfer-Encoding: 8bit\n\n<html><body>\n")
	for (k = 1; k <= n; k++)
		put(html[pidx[k]])
	put("</body></html>\n\n--" bound "--\n")
}

function attachment_body(i, bound,   lines, k) {
	put("--" bound "\nContent-Type: text/plain; charset=utf-8\n" \
	    "Content-Transfer-Encoding: 8bit\n\n")
	put(para[pick(NPARA)] "\nThe file is attached.\n\n")
	put("--" bound "\nContent-Type: application/pdf; name=\"report-" i \
	    ".pdf\"\nContent-Disposition: attachment; filename=\"report-" i \
	    ".pdf\"\nContent-Transfer-Encoding: base64\n\n")
	# 57 raw bytes per 76-character line.
	lines = int((200000 + rnd() * 1800000) / 57)
	for (k = 0; k + 16 <= lines; k += 16)
		put(b64[pick(NB64)])
	put(substr(b64[pick(NB64)], 1, (lines - k) * 77))
	put("\n--" bound "--\n")
}

function headers(i, t, folder, kind, bound,   from, to, subj, j, h) {
	from = person()
	to = person()
	if (folder == "Sent" || folder == "Entw&APw-rfe") {
		h = from
		from = to
		to = h
	}
	j = 0
	if (i > 1 && rnd() < 0.2)
		j = 1 + int(rnd() * (i - 1))
	subj = j ? subject[j] : topic[pick(ntopic)] " #" i
	subject[i] = subj
	msgid[i] = "<" i "." seed "." (1000 + pick(8999)) "@gen.twinbox.test>"
	h = "Return-Path: <" substr(from, index(from, "<") + 1)
	h = h "\nReceived: from mx" pick(9) ".example.org (mx.example.org " \
	    "[192.0.2." pick(250) "])\n\tby mail.example.net with ESMTPS id " \
	    i "x" seed "\n\tfor <" substr(to, index(to, "<") + 1) "; " \
	    rfc_date(t + 2) "\n"
	h = h "Date: " rfc_date(t) "\nFrom: " from "\nTo: " to "\n"
	if (rnd() < 0.15)
		h = h "Cc: " person() "\n"
	h = h "Subject: " (j ? "Re: " : "") subj "\nMessage-ID: " msgid[i] "\n"
	if (j)
		h = h "In-Reply-To: " msgid[j] "\nReferences: " msgid[j] "\n"
	h = h "MIME-Version: 1.0\n"
	if (kind == "text")
		h = h "Content-Type: text/plain; charset=utf-8\n" \
		    "Content-Transfer-Encoding: 8bit\n"
	else
		h = h "Content-Type: multipart/" kind "; boundary=\"" bound \
		    "\"\n"
	return h "\n"
}

function message(i,   f, folder, flags, t, kind, bound, size, dir, name) {
	f = nfolders == 1 || rnd() < 0.3 ? 1 : 1 + pick(nfolders - 1)
	folder = folders[f]
	flags = flags_for(folder)
	t = 1672531200 + i * 3300 + int(rnd() * 3000)
	kind = i % 200 == 100 ? "mixed" : (rnd() < 0.25 ? "alternative" : "text")
	bound = "=_b" i "_" seed
	size = target_size()
	dir = folder == "INBOX" ? root : root "/." folder
	name = t ".M" i "P" seed "Q" f ".gen.twinbox.test"
	if (flags == "" && rnd() < 0.4)
		path = dir "/new/" name
	else
		path = dir "/cur/" name ":2," flags
	written = 0
	put(headers(i, t, folder, kind, bound))
	if (kind == "text")
		text_body(size)
	else if (kind == "alternative")
		alternative_body(size, bound)
	else
		attachment_body(i, bound)
	if (close(path) != 0) {
		printf "gen-mail: %s: write failed\n", path > "/dev/stderr"
		exit 1
	}
}

BEGIN {
	rng = seed % 2147483646 + 1
	root = ENVIRON["GEN_ROOT"]
	nfolders = split(ENVIRON["GEN_FOLDERS"], folders, " ")
	nwords = load_words("the a meeting report budget quarter schedule " \
	    "review draft update project server backup release notes team " \
	    "customer invoice contract deadline we you they will should " \
	    "please attached find below about with for from into after " \
	    "before during next last week month today tomorrow agenda " \
	    "discuss confirm approve send share check fix deploy test " \
	    "results numbers slides feedback question answer issue plan " \
	    "office travel hotel flight train ticket room call video " \
	    "für über schön Grüße Besprechung Übersicht Änderung Größe " \
	    "naïve café déjà résumé and or but so because if when then " \
	    "is are was were has have had can could may might must")
	build_pools()
	for (i = 1; i <= count; i++)
		message(i)
}
AWK
)

# LC_ALL=C: length() counts bytes, the unit of the size targets.
LC_ALL=C GEN_ROOT=$ROOT GEN_FOLDERS=$NAMES \
	awk -v count="$COUNT" -v seed="$SEED" "$GEN_AWK" ||
	die "awk failed while writing into $ROOT"
