/*
 * Faults that a real IMAP server does not produce, through the real binary
 * against a scripted server: hostile mailbox names in LIST, and malformed
 * or cut responses.
 *
 * The server is a forked child listening on 127.0.0.1 (port chosen by the
 * kernel). It serves one connection: a greeting with capabilities, LOGIN,
 * CAPABILITY, NAMESPACE, LIST, SELECT and UID FETCH for the normal
 * mailboxes (one message each, its Message-ID naming the mailbox), and
 * LOGOUT. A fault mode replaces one answer with a broken one. The child
 * ends by itself after the connection, or after an alarm, so that no test
 * can hang on it; the parent kills it and reaps it.
 *
 * Proved: the normal mailboxes sync; each hostile name is refused or
 * skipped with a message naming it (escaped), nothing is written outside
 * the Maildir root, and the exit status is 1; a malformed, cut or missing
 * answer gives one clear error line and exit status 1 (no crash, no hang),
 * a SELECT never answered too (sent before the Maildir is listed, waited
 * for after, within Timeout), naming the store and mailbox.
 * Bodies: a NIL BODY[] and NO [EXPUNGEISSUED] mean gone; any other NO
 * fails the messages it left out for the run (exit 1) and the next run
 * copies them; flag updates the server sends unasked during a scan are
 * merged into it, so that no UID is planned twice. Courier's NAMESPACE
 * answer (lists back to back) is understood, and the text of every
 * [ALERT], untagged or tagged, reaches stderr even with -q, its control
 * characters replaced. A LIST-STATUS answer that names a mailbox the
 * listing did not, lacks an item or is refused costs one warning, and the
 * mailboxes sync as without the extension. QRESYNC: after a first sync
 * that earned a mark, a SELECT with QRESYNC whose answer adds up
 * (VANISHED (EARLIER), new messages above the mark) needs no full scan; one that does not (a
 * VANISHED of a UID never known or of one still there, a VANISHED left
 * out, a FETCH without MODSEQ, or a VANISHED and a new message both left
 * out, which the count misses and the UID SEARCH sent with ESEARCH
 * catches) is warned about once and the mailbox is scanned in full, with
 * the same result and nothing lost; without ESEARCH no SEARCH is sent.
 * With Connections 2, a second connection the server never greets is
 * not waited for once the first has taken the last mailbox.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "support/testlib.h"
#include "support/twrun.h"

enum fault {
	FAULT_NONE,
	FAULT_HOSTILE_NAMES,	/* LIST holds hostile names */
	FAULT_HUGE_LITERAL,	/* LIST announces a literal beyond limits */
	FAULT_GARBAGE,		/* NAMESPACE answered by a garbage line */
	FAULT_TRUNCATED,	/* SELECT's answer stops mid-line */
	FAULT_HUGE_EXISTS,	/* SELECT: 4294967295 EXISTS */
	FAULT_HUGE_FETCH,	/* SELECT: a FETCH of message 2^24 + 1 */
	FAULT_BYE,		/* BYE in answer to LIST, then close */
	FAULT_SILENT,		/* LIST is never answered */
	FAULT_SILENT_SELECT,	/* SELECT is never answered */
	FAULT_COURIER,		/* Courier's namespace, [ALERT]s */
	/* INBOX holds several messages; a body FETCH may go wrong: */
	FAULT_MULTI,		/* three messages, nothing wrong */
	FAULT_NIL_BODY,		/* UID 2 expunged: BODY[] NIL, then OK */
	FAULT_EXPUNGEISSUED,	/* UID 2 left out, NO [EXPUNGEISSUED] */
	FAULT_SERVERBUG,	/* UID 2 left out, NO [SERVERBUG] */
	FAULT_UNAVAILABLE,	/* nothing sent, NO [UNAVAILABLE] */
	FAULT_UNSOLICITED,	/* four messages; unsolicited flag updates
				   while sizes and dates are fetched */
	FAULT_CUT,		/* BYE and close in answer to a body FETCH */
	/* UID 2's body is streamed (over the parser's 64 KiB inline
	 * limit), and wrongly: */
	FAULT_BODY_TWICE,	/* two BODY[] in its FETCH response */
	FAULT_BODY_OUTSIDE,	/* in "* 2 XFETCH (...)", then right */
	FAULT_BODY_NO_UID,	/* as "* 9 FETCH", without its UID */
	/* CONDSTORE QRESYNC ENABLE; INBOX holds UIDs 1-3 at MODSEQ 10: */
	FAULT_QR_FIRST,
	/* ... then 1, 3 and 4 at MODSEQ 12 (2 expunged, 4 new), and a
	 * SELECT with QRESYNC from MODSEQ 10 is answered: */
	FAULT_QR_GOOD,		/* right: VANISHED (EARLIER) 2 */
	FAULT_QR_UNKNOWN_UID,	/* VANISHED (EARLIER) 2,9: 9 never known */
	FAULT_QR_MISSING,	/* no VANISHED at all */
	FAULT_QR_FALSE,		/* VANISHED (EARLIER) 1:2: 1 is there */
	FAULT_QR_NO_MODSEQ,	/* right, but a FETCH without MODSEQ */
	/* right, as another client expunges 2 while SELECT runs: EXISTS
	 * counts it, then VANISHED 2 (not EARLIER) before any UID of the
	 * sequence number map is known */
	/* right, but a FETCH about the mailbox the SELECT of Normal closes
	 * (INBOX UID 1 marked \Deleted) comes before [CLOSED] */
	FAULT_QR_STRAY,
	FAULT_QR_LIVE,
	/* wrong twice: no VANISHED and the new UID 4 left out of every
	 * FETCH, so that the count adds up; the UID SEARCH tells */
	FAULT_QR_TWICE,
	/* LIST-STATUS offered, and INBOX's status in it is the mark's but
	 * for HIGHESTMODSEQ (as if only flags changed): the SELECT goes
	 * without the UID SEARCH, which follows its answer; then */
	FAULT_QR_STALE,		/* answered as FAULT_QR_GOOD */
	FAULT_QR_STALE_TWICE,	/* answered as FAULT_QR_TWICE */
	/* UID 2 expunged and nothing new (UIDNEXT 4 as at the mark), and
	 * no VANISHED: only the count can tell */
	FAULT_QR_STALE_GONE,
	/* right, from a server without ESEARCH: no UID SEARCH is sent */
	FAULT_QR_PLAIN,
	/* LIST-STATUS offered, and its answer is wrong: */
	FAULT_LS_UNLISTED,	/* a STATUS for a mailbox not listed */
	FAULT_LS_BROKEN,	/* Normal's STATUS lacks UIDNEXT, INBOX
				   has none */
	FAULT_LS_REFUSED	/* LIST ... RETURN answered BAD */
};

#define IS_LIST_STATUS(f) ((f) >= FAULT_LS_UNLISTED)
#define IS_QR(f) ((f) >= FAULT_QR_FIRST && (f) <= FAULT_QR_PLAIN)
/* A QRESYNC fault after the first sync: INBOX has changed. */
#define IS_QR_LATER(f) ((f) > FAULT_QR_FIRST && (f) <= FAULT_QR_PLAIN)
#define IS_QR_STALE(f) ((f) == FAULT_QR_STALE || \
    (f) == FAULT_QR_STALE_TWICE || (f) == FAULT_QR_STALE_GONE)
/* Wrong twice: no VANISHED, and the new UID 4 left out. */
#define IS_QR_TWICE(f) ((f) == FAULT_QR_TWICE || (f) == FAULT_QR_STALE_TWICE)

#define QR_CAPS_PLAIN "IMAP4rev1 NAMESPACE UIDPLUS CONDSTORE QRESYNC ENABLE"
#define QR_CAPS QR_CAPS_PLAIN " ESEARCH"


#define MAX_MSGS 8

struct fake {
	pid_t pid;
	int port;
};

#define MSG_FMT "From: f@fake.test\r\nSubject: %s\r\n" \
	"Message-ID: <%s@fake.test>\r\n\r\nBody of %s.\r\n"

/* The hostile LIST entries, raw; literals carry what a quoted string
 * cannot (newline, control characters, NUL). */
static const char hostile_list[] =
	"* LIST () \"/\" \"../escape\"\r\n"
	"* LIST () \"/\" \"a/../../b\"\r\n"
	"* LIST () \"/\" \"/abs\"\r\n"
	"* LIST () \"/\" \"..\"\r\n"
	"* LIST () \"/\" \".\"\r\n"
	"* LIST () \"/\" {8}\r\nnew\nline\r\n"
	"* LIST () \"/\" {8}\r\nbell\007box\r\n"
	"* LIST () \"/\" {7}\r\nnul\000box\r\n";

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			_exit(3);
		p += w;
		n -= (size_t)w;
	}
}

static void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* One line without its CRLF into line; 0 at EOF. */
static int
read_line(int fd, char *line, size_t size)
{
	size_t n = 0;
	char c;

	while (read(fd, &c, 1) == 1) {
		if (c == '\n') {
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = '\0';
			return 1;
		}
		if (n + 1 < size)
			line[n++] = c;
	}
	return 0;
}

/* LIST ... RETURN (STATUS ...) answered as the fault says. */
static void
answer_list_status(int fd, const char *tag, enum fault fault)
{
	if (IS_QR_STALE(fault)) {
		send_str(fd, "* LIST () \"/\" INBOX\r\n* STATUS INBOX (MESSAGES "
		    "3 UIDNEXT 4 UIDVALIDITY 7 HIGHESTMODSEQ 11)\r\n"
		    "* LIST () \"/\" Normal\r\n* STATUS Normal (MESSAGES 1 "
		    "UIDNEXT 2 UIDVALIDITY 7 HIGHESTMODSEQ 10)\r\n");
		send_str(fd, tag);
		send_str(fd, " OK LIST done\r\n");
		return;
	}
	if (fault == FAULT_LS_REFUSED) {
		send_str(fd, tag);
		send_str(fd, " BAD RETURN not understood\r\n");
		return;
	}
	send_str(fd, "* LIST () \"/\" INBOX\r\n");
	if (fault == FAULT_LS_UNLISTED)
		send_str(fd, "* STATUS INBOX (MESSAGES 1 UIDNEXT 2 "
		    "UIDVALIDITY 7)\r\n* STATUS Ghost (MESSAGES 1 UIDNEXT 2 "
		    "UIDVALIDITY 7)\r\n");
	send_str(fd, "* LIST () \"/\" Normal\r\n");
	send_str(fd, fault == FAULT_LS_BROKEN ?
	    "* STATUS Normal (MESSAGES 1 UIDVALIDITY 7)\r\n" :
	    "* STATUS Normal (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 7)\r\n");
	send_str(fd, tag);
	send_str(fd, " OK LIST done\r\n");
}

static void
answer_list(int fd, const char *tag, const char *cmd, enum fault fault)
{
	char big[400];

	if (strstr(cmd, " RETURN ") != NULL) {
		answer_list_status(fd, tag, fault);
		return;
	}
	if (fault == FAULT_HUGE_LITERAL) {
		send_str(fd, "* LIST () \"/\" {99999999999}\r\nxx\r\n");
		return;
	}
	if (fault == FAULT_BYE) {
		send_str(fd, "* BYE shutting down now\r\n");
		_exit(0);
	}
	if (fault == FAULT_SILENT) {
		pause();
		_exit(0);
	}
	if (fault == FAULT_COURIER) {
		send_str(fd, "* LIST (\\HasNoChildren) \".\" \"INBOX\"\r\n"
		    "* LIST (\\HasNoChildren) \".\" \"INBOX.Normal\"\r\n");
		send_str(fd, tag);
		send_str(fd, " OK [ALERT] Mailboxes \033[2Jmoved\r\n");
		return;
	}
	send_str(fd, "* LIST () \"/\" INBOX\r\n* LIST () \"/\" Normal\r\n");
	if (fault == FAULT_HOSTILE_NAMES) {
		send_all(fd, hostile_list, sizeof(hostile_list) - 1);
		memset(big, 'n', 300);
		big[300] = '\0';
		send_str(fd, "* LIST () \"/\" \"");
		send_str(fd, big);
		send_str(fd, "\"\r\n");
	}
	send_str(fd, tag);
	send_str(fd, " OK LIST done\r\n");
}

/* Messages in box: UIDs 1..n, sequence number = UID, but for the
 * QRESYNC modes after the first (see box_has()). */
static int
box_count(const char *box, enum fault fault)
{
	if (strcmp(box, "INBOX") != 0 || fault < FAULT_MULTI ||
	    IS_LIST_STATUS(fault))
		return 1;
	return fault == FAULT_UNSOLICITED || (IS_QR_LATER(fault) &&
	    fault != FAULT_QR_STALE_GONE) ? 4 : 3;
}

static int
box_has(const char *box, enum fault fault, int uid)
{
	return uid != 2 || strcmp(box, "INBOX") != 0 ||
	    !IS_QR_LATER(fault);
}

/* The mailbox's state in the QRESYNC modes: messages, HIGHESTMODSEQ. */
static void
qr_status(const char *box, enum fault fault, int *exists, int *modseq)
{
	int later = strcmp(box, "INBOX") == 0 && IS_QR_LATER(fault);

	*exists = later && fault != FAULT_QR_LIVE ? box_count(box, fault) - 1 :
	    box_count(box, fault);
	*modseq = later ? 12 : 10;
	/* Normal's HIGHESTMODSEQ moved with no flag of its message changed
	 * (as a server may have it), so its SELECT's answer counts. */
	if (fault == FAULT_QR_STRAY && strcmp(box, "Normal") == 0)
		*modseq = 12;
}

/* What a SELECT (QRESYNC (7 since ...)) adds for the changes since. */
static void
qr_changes(int fd, const char *cmd, const char *box, enum fault fault)
{
	const char *q = strstr(cmd, "(QRESYNC (");
	unsigned long since = 0;

	if (q == NULL || strcmp(box, "INBOX") != 0 || !IS_QR_LATER(fault))
		return;
	if (sscanf(q, "(QRESYNC (%*u %lu", &since) != 1 || since >= 12)
		return;
	if (IS_QR_TWICE(fault) || fault == FAULT_QR_STALE_GONE)
		return;
	if (fault == FAULT_QR_GOOD || fault == FAULT_QR_NO_MODSEQ ||
	    fault == FAULT_QR_STRAY || fault == FAULT_QR_PLAIN ||
	    fault == FAULT_QR_STALE)
		send_str(fd, "* VANISHED (EARLIER) 2\r\n");
	else if (fault == FAULT_QR_LIVE)
		send_str(fd, "* VANISHED 2\r\n");
	else if (fault == FAULT_QR_UNKNOWN_UID)
		send_str(fd, "* VANISHED (EARLIER) 2,9\r\n");
	else if (fault == FAULT_QR_FALSE)
		send_str(fd, "* VANISHED (EARLIER) 1:2\r\n");
	send_str(fd, fault == FAULT_QR_NO_MODSEQ ?
	    "* 3 FETCH (UID 4 FLAGS (\\Seen))\r\n" :
	    "* 3 FETCH (UID 4 FLAGS (\\Seen) MODSEQ (11))\r\n");
}

static void
answer_select(int fd, const char *tag, const char *cmd, char *box,
    int *selected, enum fault fault)
{
	const char *q = strchr(cmd, '"');
	char line[256];
	int n;

	snprintf(box, 32, "%s", q != NULL ? q + 1 : "INBOX");
	box[strcspn(box, "\"")] = '\0';
	/* With QRESYNC, what comes before [CLOSED] is about the mailbox
	 * this SELECT closes (RFC 7162 3.2.11). */
	if (IS_QR(fault) && *selected) {
		if (fault == FAULT_QR_STRAY && strcmp(box, "Normal") == 0)
			send_str(fd, "* 1 FETCH (UID 1 FLAGS (\\Seen "
			    "\\Deleted) MODSEQ (11))\r\n");
		send_str(fd, "* OK [CLOSED] previous mailbox closed\r\n");
	}
	if (fault == FAULT_SILENT_SELECT)
		return;
	*selected = 1;
	if (fault == FAULT_TRUNCATED) {
		send_str(fd, "* 1 EXISTS\r\n* OK [UIDVALI");
		_exit(0);
	}
	/* The server's numbers size the client's sequence map. */
	if (fault == FAULT_HUGE_EXISTS)
		send_str(fd, "* 4294967295 EXISTS\r\n");
	if (fault == FAULT_HUGE_FETCH)
		send_str(fd, "* 16777217 FETCH (UID 5 FLAGS ())\r\n");
	n = box_count(box, fault);
	snprintf(line, sizeof(line), "* FLAGS (\\Seen \\Deleted)\r\n"
	    "* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
	    "* OK [UIDNEXT %d] ok\r\n", n, n + 1);
	if (IS_QR(fault)) {
		int exists, modseq;

		qr_status(box, fault, &exists, &modseq);
		snprintf(line, sizeof(line), "* FLAGS (\\Seen \\Deleted)\r\n"
		    "* %d EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n"
		    "* OK [UIDNEXT %d] ok\r\n* OK [HIGHESTMODSEQ %d] ok\r\n",
		    exists, n + 1, modseq);
	}
	send_str(fd, line);
	qr_changes(fd, cmd, box, fault);
	send_str(fd, tag);
	send_str(fd, " OK [READ-WRITE] SELECT done\r\n");
}

/* The UIDs of "UID FETCH <set> ..." up to n into want[1..n]. */
static void
parse_set(const char *cmd, int n, int want[MAX_MSGS + 1])
{
	const char *p = cmd + strlen("UID FETCH ");

	memset(want, 0, sizeof(int) * (MAX_MSGS + 1));
	while (*p != '\0' && *p != ' ') {
		int lo = *p == '*' ? n : atoi(p), hi;

		p += strspn(p, "0123456789*");
		hi = lo;
		if (*p == ':') {
			p++;
			hi = *p == '*' ? n : atoi(p);
			p += strspn(p, "0123456789*");
		}
		for (int u = lo < hi ? lo : hi; u <= (lo < hi ? hi : lo); u++)
			if (u >= 1 && u <= n)
				want[u] = 1;
		if (*p == ',')
			p++;
	}
}

/* One message's FETCH answer: its body, its size and date, or flags. */
/* A body of 70,000 bytes of c after INBOX-2's header. */
static void
send_big_body(int fd, char c)
{
	static const char head[] = "From: f@fake.test\r\nSubject: INBOX-2\r\n"
	    "Message-ID: <INBOX-2@fake.test>\r\n\r\n";
	size_t n = 70000, body = n - (sizeof(head) - 1);
	char *p = malloc(n), lit[32];

	ck_assert_ptr_nonnull(p);
	memcpy(p, head, sizeof(head) - 1);
	memset(p + sizeof(head) - 1, c, body);
	for (size_t i = sizeof(head) - 1 + 78; i + 1 < n; i += 80)
		memcpy(p + i, "\r\n", 2);
	memcpy(p + n - 2, "\r\n", 2);
	snprintf(lit, sizeof(lit), "{%zu}\r\n", n);
	send_str(fd, lit);
	send_all(fd, p, n);
	free(p);
}

/* UID 2 streamed wrongly: with a second body, in a response that is not
 * a FETCH, or without its UID under a number the mailbox does not have
 * (UID 2 would be the message expected). */
static void
send_streamed(int fd, enum fault fault)
{
	send_str(fd, fault == FAULT_BODY_TWICE ? "* 2 FETCH (UID 2 BODY[] " :
	    fault == FAULT_BODY_NO_UID ? "* 9 FETCH (BODY[] " :
	    "* 2 XFETCH (UID 2 BODY[] ");
	send_big_body(fd, 'a');
	if (fault == FAULT_BODY_TWICE) {
		send_str(fd, " BODY[] ");
		send_big_body(fd, 'b');
	}
	send_str(fd, ")\r\n");
}

static void
answer_one(int fd, const char *cmd, const char *box, int uid, int n,
    enum fault fault)
{
	char id[48], msg[256], line[512];
	int len, seq = box_has(box, fault, 2) || uid < 2 ? uid : uid - 1;

	if (n > 1)
		snprintf(id, sizeof(id), "%s-%d", box, uid);
	else
		snprintf(id, sizeof(id), "%s", box);
	len = snprintf(msg, sizeof(msg), MSG_FMT, id, id, id);
	if (strstr(cmd, "BODY.PEEK[]") != NULL && fault == FAULT_NIL_BODY &&
	    uid == 2)
		snprintf(line, sizeof(line), "* 2 FETCH (UID 2 FLAGS (\\Seen) "
		    "BODY[] NIL)\r\n");
	else if (strstr(cmd, "BODY.PEEK[]") != NULL && uid == 2 &&
	    fault >= FAULT_BODY_TWICE && fault <= FAULT_BODY_NO_UID) {
		send_streamed(fd, fault);
		snprintf(line, sizeof(line), "%s", fault == FAULT_BODY_TWICE ?
		    "" : "* 2 FETCH (UID 2 BODY[] NIL)\r\n");
	} else if (strstr(cmd, "BODY.PEEK[]") != NULL)
		snprintf(line, sizeof(line), "* %d FETCH (UID %d FLAGS "
		    "(\\Seen) INTERNALDATE \"02-Jan-2023 10:00:00 +0000\" "
		    "BODY[] {%d}\r\n%s)\r\n", seq, uid, len, msg);
	else if (strstr(cmd, "RFC822.SIZE") != NULL)
		snprintf(line, sizeof(line), "* %d FETCH (UID %d FLAGS "
		    "(\\Seen) RFC822.SIZE %d INTERNALDATE \"02-Jan-2023 "
		    "10:00:00 +0000\")\r\n", seq, uid, len);
	else
		snprintf(line, sizeof(line), "* %d FETCH (UID %d FLAGS "
		    "(\\Seen))\r\n", seq, uid);
	send_str(fd, line);
}

/* Another client flags messages 1 and 4 while sizes are fetched: the
 * server tells, once with the UID and once without. */
static void
send_unsolicited(int fd)
{
	send_str(fd, "* 4 FETCH (UID 4 FLAGS (\\Seen \\Flagged))\r\n"
	    "* 1 FETCH (FLAGS (\\Seen \\Flagged))\r\n");
}

static const char *
fetch_status(const char *cmd, enum fault fault)
{
	if (strstr(cmd, "BODY.PEEK[]") == NULL)
		return " OK FETCH done\r\n";
	if (fault == FAULT_EXPUNGEISSUED)
		return " NO [EXPUNGEISSUED] Some of the requested messages no "
		    "longer exist.\r\n";
	if (fault == FAULT_SERVERBUG)
		return " NO [SERVERBUG] Internal error occurred. Refer to "
		    "server log for more information.\r\n";
	if (fault == FAULT_UNAVAILABLE)
		return " NO [UNAVAILABLE] Temporary failure.\r\n";
	return " OK FETCH done\r\n";
}

static void
answer_fetch(int fd, const char *tag, const char *cmd, const char *box,
    enum fault fault)
{
	int n = box_count(box, fault), want[MAX_MSGS + 1];
	int body = strstr(cmd, "BODY.PEEK[]") != NULL;

	/* Nothing in Normal changed since the mark (CHANGEDSINCE). */
	if (fault == FAULT_QR_STRAY && strcmp(box, "Normal") == 0 &&
	    strstr(cmd, "CHANGEDSINCE") != NULL) {
		send_str(fd, tag);
		send_str(fd, " OK FETCH done\r\n");
		return;
	}
	if (strcmp(box, "INBOX") != 0)
		fault = FAULT_NONE;	/* the faults are INBOX's */
	if (body && fault == FAULT_CUT) {
		send_str(fd, "* BYE going down\r\n");
		_exit(0);
	}
	parse_set(cmd, n, want);
	if (IS_QR_TWICE(fault) && strstr(cmd, "CHANGEDSINCE") != NULL)
		want[4] = 0;
	for (int uid = 1; uid <= n; uid++) {
		if (!want[uid] || !box_has(box, fault, uid) ||
		    (body && fault == FAULT_UNAVAILABLE) ||
		    (body && uid == 2 && (fault == FAULT_EXPUNGEISSUED ||
		    fault == FAULT_SERVERBUG)))
			continue;
		answer_one(fd, cmd, box, uid, n, fault);
		if (fault == FAULT_UNSOLICITED && uid == 4 &&
		    strstr(cmd, "RFC822.SIZE") != NULL)
			send_unsolicited(fd);
	}
	send_str(fd, tag);
	send_str(fd, fetch_status(cmd, fault));
}

/* Every UID the mailbox holds, as one ESEARCH set (RFC 4731). */
static void
answer_esearch(int fd, const char *tag, const char *box, enum fault fault)
{
	char line[256];
	int len, n = box_count(box, fault);

	len = snprintf(line, sizeof line, "* ESEARCH (TAG \"%.32s\") UID "
	    "ALL ", tag);
	for (int uid = 1; uid <= n; uid++)
		if (box_has(box, fault, uid))
			len += snprintf(line + len, sizeof line - (size_t)len,
			    "%s%d", line[len - 1] == ' ' ? "" : ",", uid);
	snprintf(line + len, sizeof line - (size_t)len, "\r\n%.32s OK "
	    "SEARCH done\r\n", tag);
	send_str(fd, line);
}

static void
answer(int fd, const char *tag, const char *cmd, char *box, int *selected,
    enum fault fault)
{
	if (strncmp(cmd, "LOGIN", 5) == 0) {
		if (fault == FAULT_COURIER)
			send_str(fd, "* OK [ALERT] Quota at 95%\r\n");
		send_str(fd, tag);
		send_str(fd, IS_LIST_STATUS(fault) ?
		    " OK [CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS LIST-STATUS] "
		    "in\r\n" : fault == FAULT_QR_PLAIN ?
		    " OK [CAPABILITY " QR_CAPS_PLAIN "] in\r\n" :
		    IS_QR_STALE(fault) ?
		    " OK [CAPABILITY " QR_CAPS " LIST-STATUS] in\r\n" :
		    IS_QR(fault) ?
		    " OK [CAPABILITY " QR_CAPS "] in\r\n" :
		    " OK [CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS] in\r\n");
	} else if (strncmp(cmd, "ENABLE QRESYNC", 14) == 0 &&
	    IS_QR(fault)) {
		send_str(fd, "* ENABLED QRESYNC\r\n");
		send_str(fd, tag);
		send_str(fd, " OK enabled\r\n");
	} else if (strncmp(cmd, "CAPABILITY", 10) == 0) {
		send_str(fd, "* CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS\r\n");
		send_str(fd, tag);
		send_str(fd, " OK done\r\n");
	} else if (strncmp(cmd, "NAMESPACE", 9) == 0) {
		send_str(fd, fault == FAULT_GARBAGE ? "*)( \001garbage\r\n" :
		    fault == FAULT_COURIER ? "* NAMESPACE ((\"INBOX.\" \".\"))"
		    " NIL ((\"#shared.\" \".\")(\"shared.\" \".\"))\r\n" :
		    "* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n");
		send_str(fd, tag);
		send_str(fd, " OK done\r\n");
	} else if (strncmp(cmd, "LIST", 4) == 0) {
		answer_list(fd, tag, cmd, fault);
	} else if (strncmp(cmd, "SELECT", 6) == 0) {
		answer_select(fd, tag, cmd, box, selected, fault);
	} else if (strncmp(cmd, "UID FETCH", 9) == 0) {
		answer_fetch(fd, tag, cmd, box, fault);
	} else if (strcmp(cmd, "UID SEARCH RETURN (ALL) ALL") == 0 &&
	    IS_QR(fault)) {
		answer_esearch(fd, tag, box, fault);
	} else if (strncmp(cmd, "LOGOUT", 6) == 0) {
		char bye[2112];	/* the tag is at most a line (2048) */

		/* The client does not wait for it: it may be gone. */
		snprintf(bye, sizeof bye, "* BYE bye\r\n%s OK LOGOUT done\r\n",
		    tag);
		(void)!write(fd, bye, strlen(bye));
		_exit(0);
	} else {
		send_str(fd, tag);
		send_str(fd, " BAD unexpected command\r\n");
	}
}

static void
serve(int lfd, enum fault fault)
{
	char line[2048], box[32] = "INBOX";
	int fd, selected = 0;

	alarm(30);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(2);
	send_str(fd, "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] fake ready\r\n");
	while (read_line(fd, line, sizeof(line))) {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			continue;
		*sp = '\0';
		answer(fd, line, sp + 1, box, &selected, fault);
	}
	_exit(0);
}

static void
fake_start(struct fake *f, enum fault fault)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_msg(lfd >= 0, "socket: %s", strerror(errno));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_msg(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    listen(lfd, 1) == 0 &&
	    getsockname(lfd, (struct sockaddr *)&sa, &len) == 0,
	    "listen on 127.0.0.1: %s", strerror(errno));
	f->port = ntohs(sa.sin_port);
	f->pid = fork();
	ck_assert_msg(f->pid >= 0, "fork: %s", strerror(errno));
	if (f->pid == 0)
		serve(lfd, fault);
	close(lfd);
}

static void
fake_wait(struct fake *f)
{
	int status;

	/* SIGKILL: the child inherited Check's SIGTERM handler, which would
	 * take the whole test's process group down. */
	kill(f->pid, SIGKILL);
	ck_assert_int_eq(waitpid(f->pid, &status, 0), f->pid);
}

struct env {
	char *dir;		/* everything of the test */
	char *sandbox;		/* holds the Maildir root and nothing else */
	char *root;
	char *rc;
	char *out;
	const char *option;	/* one more argument, or NULL */
	int connections;	/* Connections, 1 unless set */
	struct buf output;
};

static void
env_init(struct env *e)
{
	e->dir = tl_mkdtemp("fake");
	e->sandbox = tl_path(e->dir, "sandbox");
	e->root = tl_path(e->sandbox, "mail");
	e->rc = tl_path(e->dir, "sync.rc");
	e->out = tl_path(e->dir, "out");
	e->option = NULL;
	e->connections = 1;
	e->output = (struct buf)BUF_INIT;
	tl_mkdirs(e->root);
}

static void
env_free(struct env *e)
{
	tl_rmtree(e->dir);
	free(e->dir);
	free(e->sandbox);
	free(e->root);
	free(e->rc);
	free(e->out);
	buf_free(&e->output);
}

/* Run one sync of the channel against the fake server; its exit status. */
static int
run_fake(struct env *e, enum fault fault, int timeout)
{
	const char *all[] = { e->option, "-c", e->rc, "c", NULL };
	const char *const *args = e->option != NULL ? all : all + 1;
	struct fake f;
	struct buf rc = BUF_INIT;
	int status;

	fake_start(&f, fault);
	/* Connections 1 unless set: the scripted server serves one
	 * connection (a second one waits unanswered in its backlog). */
	buf_addf(&rc, "IMAPAccount a\nHost 127.0.0.1\nPort %d\nUser u\n"
	    "Pass secret\nTLSType None\nAuthMechs LOGIN\nTimeout %d\n"
	    "Connections %d\n\n"
	    "IMAPStore far\nAccount a\n\nMaildirStore near\nPath %s/\n"
	    "Inbox %s/INBOX\nSubFolders Verbatim\n\nChannel c\nFar :far:\n"
	    "Near :near:\nPatterns *\nCreate Near\nSyncState *\n", f.port,
	    timeout, e->connections, e->root, e->root);
	tl_write_str(e->rc, rc.data);
	buf_reset(&e->output);
	status = tw_run(e->dir, e->out, args, NULL, &e->output);
	fake_wait(&f);
	buf_free(&rc);
	return status;
}

static void
assert_output_has(const struct env *e, const char *want)
{
	ck_assert_msg(strstr(buf_cstr(&e->output), want) != NULL,
	    "output lacks \"%s\":\n%s", want, buf_cstr(&e->output));
}

static void
assert_synced(const struct env *e, const char *box, const char *id)
{
	char *dir = tl_path(e->root, box);
	struct tw_box b;
	struct buf text = BUF_INIT;

	tw_read_box(dir, &b);
	tw_box_format(&b, 0, &text);
	ck_assert_msg(strcmp(buf_cstr(&text), id) == 0,
	    "%s holds \"%s\", not \"%s\"", box, buf_cstr(&text), id);
	buf_free(&text);
	tw_box_free(&b);
	free(dir);
}

/* The top-level entries of the sandbox: only the Maildir root. */
static void
assert_sandbox_untouched(const struct env *e)
{
	ck_assert_int_eq(tl_count_entries(e->sandbox), 1);
	ck_assert_msg(!tl_exists("/abs"), "/abs was created");
}

START_TEST(test_normal_mailboxes)
{
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, FAULT_NONE, 10), 0);
	ck_assert_msg(strstr(buf_cstr(&e.output), "warning") == NULL,
	    "a warning:\n%s", buf_cstr(&e.output));
	assert_synced(&e, "INBOX", "INBOX:S");
	assert_synced(&e, "Normal", "Normal:S");
	assert_sandbox_untouched(&e);
	env_free(&e);
}
END_TEST

/* A warning is in the output exactly once. */
static void
assert_output_once(const struct env *e, const char *want)
{
	const char *out = buf_cstr(&e->output), *at = strstr(out, want);

	ck_assert_msg(at != NULL, "output lacks \"%s\":\n%s", want, out);
	ck_assert_msg(strstr(at + 1, want) == NULL,
	    "output has \"%s\" more than once:\n%s", want, out);
}

/*
 * A server that offers LIST-STATUS and answers it wrongly: a STATUS for a
 * mailbox it did not list, a STATUS without UIDNEXT and none at all for a
 * listed mailbox, or a BAD for the extended LIST. One warning each time,
 * and both mailboxes sync as without the extension.
 */
START_TEST(test_list_status_wrong)
{
	static const struct {
		enum fault fault;
		const char *warning;
	} cases[] = {
		{ FAULT_LS_UNLISTED, "the server's LIST-STATUS answer holds a "
		    "STATUS for a mailbox it did not list, 'Ghost'; the "
		    "mailboxes concerned are opened to learn their status "
		    "instead" },
		{ FAULT_LS_BROKEN, "the server sent a STATUS without "
		    "MESSAGES, UIDNEXT, UIDVALIDITY or HIGHESTMODSEQ for "
		    "mailbox 'Normal'; the mailboxes concerned are opened to "
		    "learn their status instead" },
		{ FAULT_LS_REFUSED, "LIST \"\" \"*\" RETURN (STATUS (MESSAGES "
		    "UIDNEXT UIDVALIDITY)): BAD RETURN not understood; listing "
		    "again without statuses, and every mailbox is opened to "
		    "learn its status" },
	};
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, cases[_i].fault, 10), 0);
	assert_output_once(&e, cases[_i].warning);
	assert_synced(&e, "INBOX", "INBOX:S");
	assert_synced(&e, "Normal", "Normal:S");
	assert_sandbox_untouched(&e);
	env_free(&e);
}
END_TEST

START_TEST(test_hostile_names)
{
	static const char *const refused[] = {
		"refusing mailbox name \"../escape\": \".\" and \"..\" "
		    "components are not allowed",
		"refusing mailbox name \"a/../../b\": \".\" and \"..\" "
		    "components are not allowed",
		"refusing mailbox name \"/abs\": absolute paths are not "
		    "allowed",
		"refusing mailbox name \"..\": ",
		"refusing mailbox name \".\": ",
		"skipping mailbox: mailbox name 'new\\x0Aline' is not valid",
		"skipping mailbox: mailbox name 'bell\\x07box' is not valid",
		"skipping mailbox 'nul\\x00box': its name holds a NUL byte",
	};
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, FAULT_HOSTILE_NAMES, 10), 1);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_output_has(&e, refused[i]);
	assert_output_has(&e, "nnnnnnnnnn\": a path component is longer "
	    "than NAME_MAX");
	assert_synced(&e, "INBOX", "INBOX:S");
	assert_synced(&e, "Normal", "Normal:S");
	assert_sandbox_untouched(&e);
	ck_assert_int_eq(tl_count_entries(e.root), 2);
	env_free(&e);
}
END_TEST

START_TEST(test_courier_namespace_and_alerts)
{
	static const char *const alerts[] = {
		"twinbox: server alert from 127.0.0.1 port ",
		": Quota at 95%\n",
		": Mailboxes ?[2Jmoved\n",
	};
	struct env e;

	env_init(&e);
	e.option = "-q";
	ck_assert_int_eq(run_fake(&e, FAULT_COURIER, 10), 0);
	for (size_t i = 0; i < sizeof(alerts) / sizeof(alerts[0]); i++)
		assert_output_has(&e, alerts[i]);
	assert_synced(&e, "INBOX", "INBOX:S");
	assert_synced(&e, "Normal", "INBOX.Normal:S");
	assert_sandbox_untouched(&e);
	env_free(&e);
}
END_TEST

struct malformed {
	enum fault fault;
	const char *error;
	const char *also;	/* NULL, or more of the error line */
};

static const struct malformed malformed[] = {
	{ FAULT_HUGE_LITERAL, "bad response: literal size 99999999999 "
	    "exceeds limit 2147483648 at byte 28", NULL },
	{ FAULT_GARBAGE, "bad response: unexpected ')' after '*' at byte 1",
	    NULL },
	{ FAULT_TRUNCATED, "c:INBOX: imap store 'far' mailbox 'INBOX': "
	    "connection closed by 127.0.0.1 port", NULL },
	{ FAULT_BYE, "(the server closed the session: shutting down now)",
	    NULL },
	{ FAULT_HUGE_EXISTS, "imap store 'far' mailbox 'INBOX': the server "
	    "numbers a message 4294967295, beyond the 16777216 messages a "
	    "mailbox may hold here; giving up the connection", NULL },
	{ FAULT_HUGE_FETCH, "imap store 'far' mailbox 'INBOX': the server "
	    "numbers a message 16777217, beyond the 16777216 messages a "
	    "mailbox may hold here; giving up the connection", NULL },
	{ FAULT_SILENT, ": timed out after 1 second", NULL },
	/* Sent before the Maildir is listed, waited for after. */
	{ FAULT_SILENT_SELECT, "c:INBOX: imap store 'far' mailbox 'INBOX': "
	    "read from 127.0.0.1 port ", ": timed out after 1 second\n" },
};

START_TEST(test_malformed)
{
	const struct malformed *m = &malformed[_i];
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, m->fault, 1), 1);
	assert_output_has(&e, m->error);
	if (m->also != NULL)
		assert_output_has(&e, m->also);
	ck_assert_msg(strstr(buf_cstr(&e.output), "twinbox: error: ") != NULL,
	    "no error line:\n%s", buf_cstr(&e.output));
	assert_sandbox_untouched(&e);
	env_free(&e);
}
END_TEST

/*
 * Another client expunged UID 2 between the scan and the body FETCH:
 * Dovecot answers its BODY[] with NIL. It is gone; the others arrive with
 * their own bytes (no crash, no copy of a neighbour's body).
 */
START_TEST(test_nil_body)
{
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, FAULT_NIL_BODY, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-3:S");
	assert_synced(&e, "Normal", "Normal:S");
	env_free(&e);
}
END_TEST

/* NO [EXPUNGEISSUED] is the server's word that what it left out is
 * gone: nothing to report, nothing to retry. */
START_TEST(test_expunge_issued)
{
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, FAULT_EXPUNGEISSUED, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-3:S");
	ck_assert_int_eq(run_fake(&e, FAULT_MULTI, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-3:S");
	env_free(&e);
}
END_TEST

struct failed_fetch {
	enum fault fault;
	const char *left;	/* INBOX after the failed run */
	const char *error;
};

static const struct failed_fetch failed_fetch[] = {
	{ FAULT_SERVERBUG, "INBOX-1:S INBOX-3:S", "c:INBOX: far UID 2 was "
	    "not copied this run and stays wanted: imap store 'far' mailbox "
	    "'INBOX': UID FETCH 1:3 (UID FLAGS INTERNALDATE BODY.PEEK[]): "
	    "NO [SERVERBUG] Internal error occurred." },
	{ FAULT_UNAVAILABLE, "", "NO [UNAVAILABLE] Temporary failure." },
};

/*
 * Any other NO fails the messages it left out for this run: the run
 * says so and exits 1, and the next run copies them. Nothing is taken
 * for gone without the server's word.
 */
START_TEST(test_failed_fetch)
{
	const struct failed_fetch *f = &failed_fetch[_i];
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, f->fault, 10), 1);
	assert_output_has(&e, f->error);
	assert_output_has(&e, "could not be copied in this run (see above); ");
	assert_synced(&e, "INBOX", f->left);
	assert_synced(&e, "Normal", "Normal:S");
	ck_assert_int_eq(run_fake(&e, FAULT_MULTI, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-2:S INBOX-3:S");
	/* -V: a pair with nothing to do says so only when asked. */
	e.option = "-V";
	ck_assert_int_eq(run_fake(&e, FAULT_MULTI, 10), 0);
	assert_output_has(&e, "c:INBOX: up to date");
	env_free(&e);
}
END_TEST

/*
 * A streamed body the server gets wrong fails the fetch of its batch:
 * nothing of the batch is kept, no file holds one message's bytes in
 * another's, and the next run copies all three.
 */
START_TEST(test_streamed_body_wrong)
{
	static const char *const error[] = {
		"the server sent a second body in one FETCH response",
		"the server sent a body outside a FETCH response",
		"the server sent a body without its UID",
	};
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, FAULT_BODY_TWICE + _i, 10), 1);
	assert_output_has(&e, error[_i]);
	assert_synced(&e, "INBOX", "");
	assert_synced(&e, "Normal", "Normal:S");
	ck_assert_int_eq(run_fake(&e, FAULT_MULTI, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-2:S INBOX-3:S");
	env_free(&e);
}
END_TEST

/*
 * While a re-sync fetches the size of the new UID 4, the server reports
 * flag changes of UIDs 4 and 1 (the latter without its UID). They update
 * the scan in place: UID 4 is copied once, with its newest flags, and UID
 * 1's new flag reaches the near side.
 */
START_TEST(test_unsolicited_during_scan)
{
	struct env e;

	env_init(&e);
	ck_assert_int_eq(run_fake(&e, FAULT_MULTI, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-2:S INBOX-3:S");
	ck_assert_int_eq(run_fake(&e, FAULT_UNSOLICITED, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:FS INBOX-2:S INBOX-3:S "
	    "INBOX-4:FS");
	env_free(&e);
}
END_TEST

/*
 * Connections 2 against a server that serves one connection: the second
 * is accepted by the kernel and never greeted. The first connection syncs
 * both mailboxes; once it has taken the last one, the second is no
 * longer waited for. Before, the run waited for the greeting until the
 * server went away (its alarm, well before the Timeout of 100 s) and
 * warned that the connection could not be opened; now nothing is said
 * (under -q or not) and the run ends at once.
 */
START_TEST(test_unanswered_extra_connection)
{
	struct env e;

	env_init(&e);
	e.connections = 2;
	ck_assert_int_eq(run_fake(&e, FAULT_NONE, 100), 0);
	ck_assert_msg(strstr(buf_cstr(&e.output), "warning") == NULL &&
	    strstr(buf_cstr(&e.output), "error") == NULL,
	    "a warning or an error:\n%s", buf_cstr(&e.output));
	assert_synced(&e, "INBOX", "INBOX:S");
	assert_synced(&e, "Normal", "Normal:S");
	env_free(&e);
}
END_TEST

/* A connection lost in one mailbox: the store says so by its failure's
 * type, and the channel's other mailboxes are skipped with one line
 * instead of failing one by one; --json says which failed and which
 * were skipped. */
START_TEST(test_lost_connection_stops_channel)
{
	struct env e;

	env_init(&e);
	e.option = "--json";
	ck_assert_int_eq(run_fake(&e, FAULT_CUT, 10), 1);
	assert_output_has(&e, "{\"channel\":\"c\",\"mailbox\":\"INBOX\","
	    "\"far\":\"INBOX\",\"near\":\"INBOX\",\"result\":\"failed\",");
	assert_output_has(&e, "{\"channel\":\"c\",\"mailbox\":\"Normal\","
	    "\"far\":\"Normal\",\"near\":\"Normal\",\"result\":"
	    "\"skipped\",");
	assert_output_has(&e, "\"errors\":[\"a store can no longer be used "
	    "in this run\"]}\n");
	e.option = NULL;
	assert_output_has(&e, "c:INBOX: imap store 'far' mailbox 'INBOX': ");
	assert_output_has(&e, "(the server closed the session: going down)");
	assert_output_has(&e, "c: a store can no longer be used in this run; "
	    "skipping the channel's 1 remaining mailbox\n");
	ck_assert_msg(strstr(buf_cstr(&e.output), "c:Normal") == NULL,
	    "Normal was tried:\n%s", buf_cstr(&e.output));
	assert_synced(&e, "INBOX", "");
	ck_assert_int_eq(run_fake(&e, FAULT_NONE, 10), 0);
	assert_synced(&e, "INBOX", "INBOX:S");
	assert_synced(&e, "Normal", "Normal:S");
	env_free(&e);
}
END_TEST

/* Whether the output shows a full scan of INBOX: a UID FETCH 1:* of
 * flags after its SELECT and before Normal's. */
static int
full_scan_of_inbox(const struct env *e)
{
	const char *p = strstr(buf_cstr(&e->output), "SELECT \"INBOX\"");
	const char *end, *scan;

	if (p == NULL)
		return 0;
	end = strstr(p, "SELECT \"Normal\"");
	scan = strstr(p, " UID FETCH 1:* (UID FLAGS");
	return scan != NULL && (end == NULL || scan < end);
}

static int
count_of(const struct env *e, const char *what)
{
	int n = 0;

	for (const char *p = buf_cstr(&e->output); (p = strstr(p, what));
	    p += strlen(what))
		n++;
	return n;
}

#define QR_WARNING "the server's QRESYNC answer does not add up"

/*
 * A first sync earns the marks; then UID 2 is gone and UID 4 new. A
 * right answer to the SELECT with QRESYNC needs no full scan; each wrong
 * one is warned about once, INBOX is scanned in full and ends the same:
 * far UID 2's near copy marked \Deleted (gone on the server's word, by
 * the listing), nothing else lost. A VANISHED while the sequence number
 * map knows no UID yet still leaves the count right. A FETCH about INBOX
 * sent before the [CLOSED] of Normal's SELECT leaves Normal's message
 * as it was (it would get INBOX's \Deleted). A listing that showed only
 * flags changed keeps the UID SEARCH out of the SELECT's burst; the
 * answer's new UID or count sends it after, and it catches the wrong
 * twice as in the burst; an expunge with nothing new and no VANISHED is
 * caught by the count. The next run,
 * answered rightly, needs no full scan and finds nothing to do.
 */
START_TEST(test_qresync)
{
	enum fault fault = (enum fault)(FAULT_QR_GOOD + _i);
	int wrong = fault != FAULT_QR_GOOD && fault != FAULT_QR_LIVE &&
	    fault != FAULT_QR_STRAY && fault != FAULT_QR_PLAIN &&
	    fault != FAULT_QR_STALE;
	int gone = fault == FAULT_QR_STALE_GONE;
	struct env e;

	env_init(&e);
	e.option = "-D";
	ck_assert_int_eq(run_fake(&e, FAULT_QR_FIRST, 10), 0);
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-2:S INBOX-3:S");
	assert_output_has(&e, "> T2 ENABLE QRESYNC");
	ck_assert_int_eq(run_fake(&e, fault, 10), 0);
	assert_output_has(&e, "SELECT \"INBOX\" (QRESYNC (7 10 1:3))");
	ck_assert_int_eq(count_of(&e, " UID SEARCH RETURN (ALL) ALL\n") > 0,
	    fault != FAULT_QR_PLAIN);
	if (IS_QR_STALE(fault)) {
		const char *done = strstr(buf_cstr(&e.output), "SELECT done");
		const char *search = strstr(buf_cstr(&e.output),
		    " UID SEARCH RETURN");

		ck_assert_msg(done != NULL && search != NULL && done < search,
		    "the UID SEARCH is sent after the SELECT's answer");
	}
	ck_assert_int_eq(count_of(&e, QR_WARNING), wrong);
	ck_assert_int_eq(full_scan_of_inbox(&e), wrong);
	assert_synced(&e, "INBOX", gone ? "INBOX-1:S INBOX-2:ST INBOX-3:S" :
	    "INBOX-1:S INBOX-2:ST INBOX-3:S INBOX-4:S");
	assert_synced(&e, "Normal", "Normal:S");
	if (gone) {		/* the next server is another one */
		env_free(&e);
		return;
	}
	ck_assert_int_eq(run_fake(&e, FAULT_QR_GOOD, 10), 0);
	ck_assert_int_eq(count_of(&e, QR_WARNING), 0);
	ck_assert_int_eq(full_scan_of_inbox(&e), 0);
	assert_output_has(&e, "c:INBOX: up to date");
	assert_synced(&e, "INBOX", "INBOX-1:S INBOX-2:ST INBOX-3:S "
	    "INBOX-4:S");
	env_free(&e);
}
END_TEST

static Suite *
fake_suite(void)
{
	Suite *s = suite_create("imap_fake");
	TCase *tc = tcase_create("fake");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_normal_mailboxes);
	tcase_add_test(tc, test_hostile_names);
	tcase_add_loop_test(tc, test_list_status_wrong, 0, 3);
	tcase_add_test(tc, test_courier_namespace_and_alerts);
	tcase_add_loop_test(tc, test_malformed, 0,
	    (int)(sizeof(malformed) / sizeof(malformed[0])));
	tcase_add_test(tc, test_nil_body);
	tcase_add_test(tc, test_expunge_issued);
	tcase_add_loop_test(tc, test_failed_fetch, 0,
	    (int)(sizeof(failed_fetch) / sizeof(failed_fetch[0])));
	tcase_add_test(tc, test_unsolicited_during_scan);
	tcase_add_loop_test(tc, test_streamed_body_wrong, 0, 3);
	tcase_add_test(tc, test_lost_connection_stops_channel);
	tcase_add_test(tc, test_unanswered_extra_connection);
	tcase_add_loop_test(tc, test_qresync, 0,
	    FAULT_QR_PLAIN - FAULT_QR_GOOD + 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(fake_suite());
}
