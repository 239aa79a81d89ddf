/*
 * Unit tests: the IMAP response parser. Every input is fed whole, one byte
 * at a time and in random (fixed-seed) splits; all must give the same
 * responses, streamed data and error text.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "imap/parser.h"
#include "support/testlib.h"

struct collector {
	struct buf out;		/* canonical dump of everything delivered */
	struct buf lit;		/* the streamed literal being received */
	struct imap_parser *parser;
	size_t max_memory;
	int stop_after;		/* stop at this response (0: never) */
	int responses;
};

static void
dump_bytes(struct buf *b, const char *s, size_t len)
{
	buf_addc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			buf_addf(b, "\\%c", c);
		else if (c >= 0x20 && c < 0x7f)
			buf_addc(b, (char)c);
		else
			buf_addf(b, "\\x%02x", c);
	}
	buf_addc(b, '"');
}

static void dump_list(struct buf *b, const struct imap_item *first);

static void
dump_item(struct buf *b, const struct imap_item *it)
{
	switch (it->kind) {
	case IMAP_ATOM:
		buf_adds(b, it->str);
		break;
	case IMAP_NUMBER:
		buf_addf(b, "#%llu", (unsigned long long)it->num);
		break;
	case IMAP_STRING:
		dump_bytes(b, it->str, it->len);
		break;
	case IMAP_LITERAL:
		buf_addf(b, "{%llu}", (unsigned long long)it->num);
		break;
	case IMAP_LIST:
		buf_addc(b, '(');
		dump_list(b, it->child);
		buf_addc(b, ')');
		break;
	case IMAP_NIL:
		buf_adds(b, "NIL");
		break;
	}
}

static void
dump_list(struct buf *b, const struct imap_item *first)
{
	for (const struct imap_item *it = first; it != NULL; it = it->next) {
		dump_item(b, it);
		if (it->next != NULL)
			buf_addc(b, ' ');
	}
}

static int
on_response(void *ctx, const struct imap_response *r)
{
	struct collector *c = ctx;
	size_t n = 0;

	if (r->type == IMAP_TAGGED)
		buf_addf(&c->out, "%s ", r->tag);
	else
		buf_adds(&c->out, r->type == IMAP_UNTAGGED ? "* " : "+ ");
	for (const struct imap_item *it = r->items; it != NULL; it = it->next)
		n++;
	ck_assert_uint_eq(n, r->count);
	dump_list(&c->out, r->items);
	if (r->code != NULL) {
		buf_adds(&c->out, " [");
		dump_list(&c->out, r->code->child);
		buf_adds(&c->out, "]");
	}
	if (r->text != NULL) {
		buf_addc(&c->out, ' ');
		dump_bytes(&c->out, r->text->str, r->text->len);
	}
	buf_addc(&c->out, '\n');
	if (imap_parser_memory(c->parser) > c->max_memory)
		c->max_memory = imap_parser_memory(c->parser);
	return ++c->responses == c->stop_after;
}

static int
on_literal(void *ctx, const struct imap_literal_info *w, const char *p,
    size_t n)
{
	struct collector *c = ctx;

	ck_assert_uint_eq(w->offset, c->lit.len);
	ck_assert_uint_gt(n, 0);
	ck_assert_uint_le(w->offset + n, w->size);
	buf_add(&c->lit, p, n);
	if (w->offset + n < w->size)
		return 0;
	buf_addf(&c->out, "<%s seq=%llu n=%llu tag=%s bin=%d path=",
	    w->item_name ? w->item_name : "-", (unsigned long long)w->seq,
	    (unsigned long long)w->number, w->tag ? w->tag : "-", w->binary);
	for (size_t i = 0; i < w->depth; i++)
		buf_addf(&c->out, "%s%zu", i ? "." : "", w->path[i]);
	buf_addf(&c->out, " %llu ", (unsigned long long)w->size);
	dump_bytes(&c->out, c->lit.data, c->lit.len);
	buf_adds(&c->out, ">\n");
	buf_reset(&c->lit);
	return 0;
}

enum chunking { WHOLE, BYTES, RANDOM1, RANDOM2, RANDOM3, NCHUNKINGS };

static size_t
next_chunk(enum chunking how, uint32_t *seed)
{
	if (how == WHOLE)
		return SIZE_MAX;
	if (how == BYTES)
		return 1;
	*seed = *seed * 1103515245u + 12345u;
	return 1 + (*seed >> 16) % 13;
}

/* Parse input with one chunking; returns the dump plus "ERROR: ...". */
static char *
parse_with(const char *in, size_t len, const struct imap_parser_limits *lim,
    int stream, enum chunking how)
{
	struct collector c = { BUF_INIT, BUF_INIT, NULL, 0, 0, 0 };
	struct imap_parser_callbacks cb = { on_response,
	    stream ? on_literal : NULL, &c };
	uint32_t seed = (uint32_t)how * 7919u;
	size_t off = 0;
	int rc = 0;

	c.parser = imap_parser_new(&cb, lim);
	while (off < len && rc == 0) {
		size_t n = next_chunk(how, &seed);

		if (n > len - off)
			n = len - off;
		rc = imap_parser_feed(c.parser, in + off, n);
		off += n;
	}
	if (rc == 0)
		rc = imap_parser_eof(c.parser);
	if (rc != 0) {
		buf_addf(&c.out, "ERROR: %s", imap_parser_error(c.parser));
		/* A failed parser must refuse everything after. */
		ck_assert_int_eq(imap_parser_feed(c.parser, "* OK\r\n", 6), -1);
	} else
		ck_assert_ptr_null(imap_parser_error(c.parser));
	imap_parser_free(c.parser);
	buf_free(&c.lit);
	return buf_detach(&c.out);
}

static void
check_all_chunkings(const char *in, size_t len,
    const struct imap_parser_limits *lim, int stream, const char *want)
{
	static const char *names[] = { "whole", "bytes", "random1",
	    "random2", "random3" };

	for (int how = 0; how < NCHUNKINGS; how++) {
		char *got = parse_with(in, len, lim, stream, how);

		ck_assert_msg(strcmp(got, want) == 0,
		    "chunking %s:\n got: %s\nwant: %s", names[how], got, want);
		free(got);
	}
}

struct parse_case {
	const char *name;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	const char *want;
};

#define CASES_END { NULL, NULL, 0, NULL }

static const char fetch_in[] =
	  "* 12 FETCH (UID 4827313 FLAGS (\\Seen $Junk) RFC822.SIZE 11"
	  " INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" MODSEQ (12121231000)"
	  " BODY[] {12}\r\nHello\r\nWorld)\r\n"
	  "* 13 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)] {21}\r\n"
	  "Message-ID: <a@b>\r\n\r\n UID 5)\r\n"
	  "* 14 FETCH (BODY[]<0> {3}\r\nabc BODY[1.MIME] NIL"
	  " BODY[HEADER.FIELDS (\"X-A]\" B)]<10.20> \"\")\r\n"
	  "* 15 FETCH (ENVELOPE (\"Wed, 17 Jul 1996\" \"Hi\" ((\"A\" NIL"
	  " \"a\" \"b.org\")) NIL NIL NIL NIL NIL NIL \"<x@y>\"))\r\n"
	  "* 16 FETCH (BINARY[1] ~{4}\r\nab\0c BODY[] {0}\r\n)\r\n";

static const struct parse_case valid_cases[] = {
	{ "greeting",
	  "* OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+"
	  " AUTH=PLAIN] Dovecot ready.\r\n", 0,
	  "* OK [CAPABILITY IMAP4rev1 SASL-IR ID ENABLE IDLE LITERAL+"
	  " AUTH=PLAIN] \"Dovecot ready.\"\n" },
	{ "preauth and bye",
	  "* PREAUTH [CAPABILITY IMAP4rev2] Logged in as x\r\n"
	  "* BYE [UNAVAILABLE] Server shutting down\r\n", 0,
	  "* PREAUTH [CAPABILITY IMAP4rev2] \"Logged in as x\"\n"
	  "* BYE [UNAVAILABLE] \"Server shutting down\"\n" },
	{ "capability",
	  "* CAPABILITY IMAP4rev1 UIDPLUS CONDSTORE QRESYNC COMPRESS=DEFLATE"
	  "\r\n", 0,
	  "* CAPABILITY IMAP4rev1 UIDPLUS CONDSTORE QRESYNC"
	  " COMPRESS=DEFLATE\n" },
	{ "list",
	  "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"
	  "* LIST (\\HasChildren \\Noselect) \".\" \"Archive.2023\"\r\n"
	  "* LIST () NIL {11}\r\nweird \"name\r\n"
	  "* LIST (\\Marked \\Sent) \"\\\\\" \"a \\\"q\\\" \\\\ b\"\r\n"
	  "* LIST (\\Noinferiors) \"/\" ~backup]x\r\n"
	  "* LIST () \"/\" {3+}\r\nabc\r\n"
	  "* LIST (\\HasChildren) \".\" [Gmail]\r\n"
	  "* LIST () \".\" [Gmail].Drafts\r\n"
	  "* LSUB (\\HasNoChildren) \"/\" \"\"\r\n", 0,
	  "* LIST (\\HasNoChildren) \"/\" INBOX\n"
	  "* LIST (\\HasChildren \\Noselect) \".\" \"Archive.2023\"\n"
	  "* LIST () NIL \"weird \\\"name\"\n"
	  "* LIST (\\Marked \\Sent) \"\\\\\" \"a \\\"q\\\" \\\\ b\"\n"
	  "* LIST (\\Noinferiors) \"/\" ~backup]x\n"
	  "* LIST () \"/\" \"abc\"\n"
	  "* LIST (\\HasChildren) \".\" [Gmail]\n"
	  "* LIST () \".\" [Gmail].Drafts\n"
	  "* LSUB (\\HasNoChildren) \"/\" \"\"\n" },
	{ "status",
	  "* STATUS \"INBOX\" (MESSAGES 231 UIDNEXT 44292 UIDVALIDITY 1"
	  " HIGHESTMODSEQ 9007199254740993)\r\n", 0,
	  "* STATUS \"INBOX\" (MESSAGES #231 UIDNEXT #44292 UIDVALIDITY #1"
	  " HIGHESTMODSEQ #9007199254740993)\n" },
	{ "select",
	  "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Fwd)\r\n"
	  "* OK [PERMANENTFLAGS (\\Answered \\Seen $Fwd \\*)] Limited\r\n"
	  "* 172 EXISTS\r\n"
	  "* 1 RECENT\r\n"
	  "* OK [UNSEEN 12] Message 12 is first unseen\r\n"
	  "* OK [UIDVALIDITY 3857529045] UIDs valid\r\n"
	  "* OK [UIDNEXT 4392] Predicted next UID\r\n"
	  "* OK [HIGHESTMODSEQ 715194045007]\r\n"
	  "* OK [NOMODSEQ] Sorry, this mailbox format doesn't support"
	  " modsequences\r\n"
	  "A142 OK [READ-WRITE] SELECT completed\r\n", 0,
	  "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Fwd)\n"
	  "* OK [PERMANENTFLAGS (\\Answered \\Seen $Fwd \\*)] \"Limited\"\n"
	  "* #172 EXISTS\n"
	  "* #1 RECENT\n"
	  "* OK [UNSEEN #12] \"Message 12 is first unseen\"\n"
	  "* OK [UIDVALIDITY #3857529045] \"UIDs valid\"\n"
	  "* OK [UIDNEXT #4392] \"Predicted next UID\"\n"
	  "* OK [HIGHESTMODSEQ #715194045007] \"\"\n"
	  "* OK [NOMODSEQ] \"Sorry, this mailbox format doesn't support"
	  " modsequences\"\n"
	  "A142 OK [READ-WRITE] \"SELECT completed\"\n" },
	{ "fetch", fetch_in, sizeof(fetch_in) - 1,
	  "* #12 FETCH (UID #4827313 FLAGS (\\Seen $Junk) RFC822.SIZE #11"
	  " INTERNALDATE \"17-Jul-1996 02:44:25 -0700\" MODSEQ (#12121231000)"
	  " BODY[] \"Hello\\x0d\\x0aWorld\")\n"
	  "* #13 FETCH (BODY[HEADER.FIELDS (MESSAGE-ID)]"
	  " \"Message-ID: <a@b>\\x0d\\x0a\\x0d\\x0a\" UID #5)\n"
	  "* #14 FETCH (BODY[]<0> \"abc\" BODY[1.MIME] NIL"
	  " BODY[HEADER.FIELDS (\"X-A]\" B)]<10.20> \"\")\n"
	  "* #15 FETCH (ENVELOPE (\"Wed, 17 Jul 1996\" \"Hi\" ((\"A\" NIL"
	  " \"a\" \"b.org\")) NIL NIL NIL NIL NIL NIL \"<x@y>\"))\n"
	  "* #16 FETCH (BINARY[1] \"ab\\x00c\" BODY[] \"\")\n" },
	{ "vanished, expunge, esearch, search",
	  "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\r\n"
	  "* VANISHED 405,407\r\n"
	  "* 3 EXPUNGE\r\n"
	  "* ESEARCH (TAG \"A282\") UID MIN 2 COUNT 3 ALL 2,10:11\r\n"
	  "* SEARCH 2 84 882\r\n"
	  "* SEARCH\r\n", 0,
	  "* VANISHED (EARLIER) 41,43:116,118,120:211,214:540\n"
	  "* VANISHED 405,407\n"
	  "* #3 EXPUNGE\n"
	  "* ESEARCH (TAG \"A282\") UID MIN #2 COUNT #3 ALL 2,10:11\n"
	  "* SEARCH #2 #84 #882\n"
	  "* SEARCH\n" },
	{ "tagged",
	  "A1 OK [APPENDUID 38505 3955] APPEND completed\r\n"
	  "A2 NO [TRYCREATE] Mailbox doesn't exist: \"x\" (sic\r\n"
	  "A3 BAD Command unknown\r\n"
	  "a4 ok\r\n"
	  "A5 OK [COPYUID 38505 304,319:320 3956:3958] Done\r\n"
	  "A6 NO [ALERT]\r\n"
	  "A.7] OK [REFERRAL imap://u;AUTH=*@h/] [not a code]\r\n", 0,
	  "A1 OK [APPENDUID #38505 #3955] \"APPEND completed\"\n"
	  "A2 NO [TRYCREATE] \"Mailbox doesn't exist: \\\"x\\\" (sic\"\n"
	  "A3 BAD \"Command unknown\"\n"
	  "a4 ok \"\"\n"
	  "A5 OK [COPYUID #38505 304,319:320 3956:3958] \"Done\"\n"
	  "A6 NO [ALERT] \"\"\n"
	  "A.7] OK [REFERRAL imap://u;AUTH=*@h/] \"[not a code]\"\n" },
	{ "continuation",
	  "+ Ready for literal data\r\n"
	  "+\r\n"
	  "+ \r\n"
	  "+ [ALERT] go ahead\r\n"
	  "+ dGVzdA==\r\n", 0,
	  "+  \"Ready for literal data\"\n"
	  "+  \"\"\n"
	  "+  \"\"\n"
	  "+  [ALERT] \"go ahead\"\n"
	  "+  \"dGVzdA==\"\n" },
	/* RFC 2342 and RFC 3501 put lists back to back without a space. */
	{ "namespace of courier",
	  "* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\")"
	  "(\"shared.\" \".\"))\r\n", 0,
	  "* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared.\" \".\")"
	  " (\"shared.\" \".\"))\n" },
	{ "multipart bodystructure",
	  "* 1 FETCH (UID 7 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\""
	  " \"utf-8\") NIL NIL \"8BIT\" 12 1)(\"TEXT\" \"HTML\" NIL NIL NIL"
	  " \"7BIT\" 30 2)((\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" 4)"
	  "(\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" 8) \"RELATED\")"
	  " \"MIXED\"))\r\n", 0,
	  "* #1 FETCH (UID #7 BODYSTRUCTURE ((\"TEXT\" \"PLAIN\" (\"CHARSET\""
	  " \"utf-8\") NIL NIL \"8BIT\" #12 #1) (\"TEXT\" \"HTML\" NIL NIL NIL"
	  " \"7BIT\" #30 #2) ((\"IMAGE\" \"PNG\" NIL NIL NIL \"BASE64\" #4)"
	  " (\"IMAGE\" \"GIF\" NIL NIL NIL \"BASE64\" #8) \"RELATED\")"
	  " \"MIXED\"))\n" },
	{ "lenient spacing and bare LF",
	  "* 1 EXISTS\n* FLAGS (\\Seen )\r\n* SEARCH 1 \r\n", 0,
	  "* #1 EXISTS\n* FLAGS (\\Seen)\n* SEARCH #1\n" },
	CASES_END
};

START_TEST(test_valid_responses)
{
	const struct parse_case *t = &valid_cases[_i];
	size_t len = t->len ? t->len : strlen(t->in);

	check_all_chunkings(t->in, len, NULL, 1, t->want);
}
END_TEST

static const char nul_quoted[] = "* LIST () \"/\" \"a\0b\"\r\n";
static const char nul_text[] = "* OK a\0b\r\n";

static const struct parse_case error_cases[] = {
	{ "unterminated quoted", "* LIST () \"/\" \"INBOX\r\n", 0,
	  "ERROR: bad response: unterminated quoted string at byte 20" },
	{ "huge literal", "* 1 FETCH (BODY[] {99999999999}\r\n", 0,
	  "ERROR: bad response: literal size 99999999999 exceeds limit"
	  " 2147483648 at byte 32" },
	{ "literal over uint64", "* 1 FETCH (BODY[] {99999999999999999999}"
	  "\r\n", 0,
	  "ERROR: bad response: literal size 99999999999999999999 exceeds"
	  " limit 2147483648 at byte 41" },
	{ "literal size digits", "* 1 FETCH (BODY[] {123456789012345678901}"
	  "\r\n", 0,
	  "ERROR: bad response: literal size too long at byte 39" },
	{ "number overflow", "* 99999999999999999999999 EXISTS\r\n", 0,
	  "ERROR: bad response: number 99999999999999999999999 is too large"
	  " at byte 25" },
	{ "bad escape", "* LIST () \"/\" \"a\\b\"\r\n", 0,
	  "ERROR: bad response: unexpected 'b' after '\\' in quoted string"
	  " at byte 17" },
	{ "nul in quoted", nul_quoted, sizeof(nul_quoted) - 1,
	  "ERROR: bad response: unexpected 0x00 in quoted string at byte 16" },
	{ "nul in text", nul_text, sizeof(nul_text) - 1,
	  "ERROR: bad response: unexpected 0x00 in text at byte 6" },
	{ "missing space", "* LIST ()\"/\"\r\n", 0,
	  "ERROR: bad response: unexpected '\"' after item at byte 9" },
	{ "list right after an atom", "* FLAGS (a(b))\r\n", 0,
	  "ERROR: bad response: unexpected '(' after item at byte 10" },
	{ "list right after a string", "* X (\"a\"(b))\r\n", 0,
	  "ERROR: bad response: unexpected '(' after item at byte 8" },
	{ "list right after the top level", "* X (a)(b)\r\n", 0,
	  "ERROR: bad response: unexpected '(' after item at byte 7" },
	{ "extra paren", "* FLAGS (a))\r\n", 0,
	  "ERROR: bad response: unexpected ')' at byte 11" },
	{ "open list", "* FLAGS (a\r\n", 0,
	  "ERROR: bad response: line ended inside a list at byte 10" },
	{ "open code", "* OK [ALERT\r\n", 0,
	  "ERROR: bad response: line ended inside a response code at byte 11" },
	{ "tagged without status", "A1 FOO bar\r\n", 0,
	  "ERROR: bad response: tagged response without OK, NO or BAD"
	  " at byte 6" },
	{ "tagged list", "A1 (x)\r\n", 0,
	  "ERROR: bad response: tagged response without OK, NO or BAD"
	  " at byte 3" },
	{ "tagged bye", "A1 BYE x\r\n", 0,
	  "ERROR: bad response: tagged response without OK, NO or BAD"
	  " at byte 6" },
	{ "cr without lf", "* OK x\rY\r\n", 0,
	  "ERROR: bad response: unexpected 'Y' after CR at byte 7" },
	{ "bad start", "(foo)\r\n", 0,
	  "ERROR: bad response: unexpected '(' at start of response"
	  " at byte 0" },
	{ "bad second response", "* OK\r\n\x01", 0,
	  "* OK \"\"\n"
	  "ERROR: bad response: unexpected 0x01 at start of response"
	  " at byte 0" },
	{ "empty response", "* \r\n", 0,
	  "ERROR: bad response: empty response at byte 2" },
	{ "empty literal size", "* LIST () \"/\" {}\r\n", 0,
	  "ERROR: bad response: unexpected '}' in literal size at byte 15" },
	{ "junk in literal size", "* LIST () \"/\" {5x}\r\n", 0,
	  "ERROR: bad response: unexpected 'x' in literal size at byte 16" },
	{ "junk after literal size", "* LIST () \"/\" {5}x\r\n", 0,
	  "ERROR: bad response: unexpected 'x' after literal size"
	  " at byte 17" },
	{ "empty code", "* OK [] x\r\n", 0,
	  "ERROR: bad response: empty response code at byte 6" },
	{ "code without name", "* OK [5] x\r\n", 0,
	  "ERROR: bad response: response code does not start with an atom"
	  " at byte 7" },
	{ "open section", "* 1 FETCH (BODY[HEADER\r\n", 0,
	  "ERROR: bad response: unexpected 0x0d inside '[...]' of an atom"
	  " at byte 22" },
	{ "junk after code", "* OK [ALERT]x\r\n", 0,
	  "ERROR: bad response: unexpected 'x' after response code"
	  " at byte 12" },
	{ "junk after status", "* OK(\r\n", 0,
	  "ERROR: bad response: unexpected '(' after status at byte 4" },
	{ "junk after plus", "+x\r\n", 0,
	  "ERROR: bad response: unexpected 'x' after '+' at byte 1" },
	{ "junk after star", "*x\r\n", 0,
	  "ERROR: bad response: unexpected 'x' after '*' at byte 1" },
	{ "bad tag", "A{1 OK\r\n", 0,
	  "ERROR: bad response: unexpected '{' in tag at byte 1" },
	{ "eof in quoted", "* LIST () \"/\" \"INB", 0,
	  "ERROR: bad response: connection closed inside a quoted string"
	  " at byte 18" },
	{ "eof in literal", "* 1 FETCH (BODY[] {10}\r\nabc", 0,
	  "ERROR: bad response: connection closed inside a literal after 3"
	  " of 10 bytes at byte 27" },
	{ "eof in line", "* OK done\r\n* 3 EXISTS", 0,
	  "* OK \"done\"\n"
	  "ERROR: bad response: connection closed before the end of the"
	  " response at byte 10" },
	CASES_END
};

START_TEST(test_malformed_responses)
{
	const struct parse_case *t = &error_cases[_i];
	size_t len = t->len ? t->len : strlen(t->in);

	check_all_chunkings(t->in, len, NULL, 1, t->want);
}
END_TEST

static void
small_limits(struct imap_parser_limits *lim)
{
	imap_parser_default_limits(lim);
	lim->max_line = 64;
	lim->max_inline_literal = 8;
	lim->max_inline_total = 16;
	lim->max_literal = 1000;
	lim->max_depth = 3;
	lim->max_items = 12;
	lim->max_number = 1000;
}

static const struct parse_case limit_cases[] = {
	{ "line", "* SEARCH 1 2 3 4 5 6 7 8 9 10\r\n"
	  "* X 1:100,200,300,400,500,600,700,800,900,1000,100,200,300,400,5,6"
	  "\r\n", 0,
	  "* SEARCH #1 #2 #3 #4 #5 #6 #7 #8 #9 #10\n"
	  "ERROR: bad response: line exceeds limit of 64 bytes outside"
	  " literals at byte 64" },
	{ "depth", "* X (((a)))\r\n* X ((((a))))\r\n", 0,
	  "* X (((a)))\n"
	  "ERROR: bad response: nesting deeper than 3 at byte 7" },
	{ "code counts as depth",
	  "* OK [X ((a))] t\r\n* OK [X (((a)))] t\r\n", 0,
	  "* OK [X ((a))] \"t\"\n"
	  "ERROR: bad response: nesting deeper than 3 at byte 10" },
	{ "items", "* SEARCH 1 2 3 4 5 6 7 8 9 10 11\r\n"
	  "* SEARCH 1 2 3 4 5 6 7 8 9 10 11 12\r\n", 0,
	  "* SEARCH #1 #2 #3 #4 #5 #6 #7 #8 #9 #10 #11\n"
	  "ERROR: bad response: more than 12 items in one response"
	  " at byte 35" },
	{ "number", "* 1000 EXISTS\r\n* 1001 EXISTS\r\n", 0,
	  "* #1000 EXISTS\n"
	  "ERROR: bad response: number 1001 exceeds limit 1000 at byte 6" },
	{ "literal", "* 1 FETCH (BODY[] {1001}\r\n", 0,
	  "ERROR: bad response: literal size 1001 exceeds limit 1000"
	  " at byte 25" },
	{ "inline total", "* 1 FETCH (A {8}\r\n12345678 B {8}\r\n12345678"
	  " C {1}\r\nx)\r\n", 0,
	  "ERROR: bad response: literals exceed limit of 16 bytes held for"
	  " one response at byte 49" },
	{ "streamed", "* 7 FETCH (UID 9 BODY[] {20}\r\n01234567890123456789"
	  " FLAGS (\\Seen))\r\nA1 OK done\r\n", 0,
	  "<BODY[] seq=1 n=7 tag=- bin=0 path=2.3 20"
	  " \"01234567890123456789\">\n"
	  "* #7 FETCH (UID #9 BODY[] {20} FLAGS (\\Seen))\n"
	  "A1 OK \"done\"\n" },
	{ "streamed literal8", "* OK x\r\n* LIST () \"/\" ~{10}\r\n"
	  "0123456\r\n9\r\n", 0,
	  "* OK \"x\"\n"
	  "<- seq=2 n=0 tag=- bin=1 path=3 10 \"0123456\\x0d\\x0a9\">\n"
	  "* LIST () \"/\" {10}\n" },
	{ "line excludes literals", "* 1 FETCH (A {8}\r\n12345678 B {8}\r\n"
	  "12345678 C {900}\r\n"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "0123)\r\n", 0,
	  NULL },
	CASES_END
};

START_TEST(test_limits)
{
	const struct parse_case *t = &limit_cases[_i];
	size_t len = t->len ? t->len : strlen(t->in);
	struct imap_parser_limits lim;
	char *got;

	small_limits(&lim);
	if (t->want != NULL) {
		check_all_chunkings(t->in, len, &lim, 1, t->want);
		return;
	}
	got = parse_with(t->in, len, &lim, 1, BYTES);
	ck_assert_msg(strstr(got, "ERROR") == NULL, "%s", got);
	ck_assert_ptr_nonnull(strstr(got, "* #1 FETCH (A \"12345678\""
	    " B \"12345678\" C {900})\n"));
	free(got);
}
END_TEST

START_TEST(test_no_literal_consumer)
{
	struct imap_parser_limits lim;
	const char *in = "* 1 FETCH (BODY[] {8}\r\n12345678)\r\n"
	    "* 2 FETCH (BODY[] {9}\r\n123456789)\r\n";

	small_limits(&lim);
	for (int how = 0; how < NCHUNKINGS; how++) {
		char *got = parse_with(in, strlen(in), &lim, 0, how);

		ck_assert_str_eq(got, "* #1 FETCH (BODY[] \"12345678\")\n"
		    "ERROR: bad response: literal of 9 bytes is over the inline"
		    " limit 8 and nothing accepts streamed data at byte 22");
		free(got);
	}
}
END_TEST

/* 40 nested lists: over the default depth, fine when the limit is huge. */
START_TEST(test_depth_default_and_unbounded)
{
	struct imap_parser_limits lim;
	struct buf in = BUF_INIT, want = BUF_INIT;
	char *got;

	buf_adds(&in, "* X ");
	buf_adds(&want, "* X ");
	for (int i = 0; i < 40; i++) {
		buf_addc(&in, '(');
		buf_addc(&want, '(');
	}
	for (int i = 0; i < 40; i++) {
		buf_addc(&in, ')');
		buf_addc(&want, ')');
	}
	buf_adds(&in, "\r\n");
	buf_addc(&want, '\n');
	got = parse_with(in.data, in.len, NULL, 1, WHOLE);
	ck_assert_str_eq(got,
	    "ERROR: bad response: nesting deeper than 32 at byte 36");
	free(got);
	imap_parser_default_limits(&lim);
	lim.max_depth = SIZE_MAX;
	lim.max_items = SIZE_MAX;
	lim.max_line = SIZE_MAX;
	check_all_chunkings(in.data, in.len, &lim, 1, want.data);
	buf_free(&in);
	buf_free(&want);
}
END_TEST

START_TEST(test_callback_stops_parser)
{
	struct collector c = { BUF_INIT, BUF_INIT, NULL, 0, 2, 0 };
	struct imap_parser_callbacks cb = { on_response, on_literal, &c };
	const char *in = "* 1 EXISTS\r\n* 2 EXISTS\r\n* 3 EXISTS\r\n";

	c.parser = imap_parser_new(&cb, NULL);
	ck_assert_int_eq(imap_parser_feed(c.parser, in, strlen(in)), -1);
	ck_assert_str_eq(imap_parser_error(c.parser),
	    "response callback stopped the parser at byte 11");
	ck_assert_str_eq(c.out.data, "* #1 EXISTS\n* #2 EXISTS\n");
	ck_assert_int_eq(imap_parser_eof(c.parser), -1);
	imap_parser_free(c.parser);
	buf_free(&c.out);
}
END_TEST

static int
refuse_literal(void *ctx, const struct imap_literal_info *w, const char *p,
    size_t n)
{
	(void)ctx;
	(void)w;
	(void)p;
	(void)n;
	return -1;
}

START_TEST(test_literal_consumer_stops_parser)
{
	struct imap_parser_callbacks cb = { NULL, refuse_literal, NULL };
	struct imap_parser_limits lim;
	struct imap_parser *p;
	const char *in = "* 1 FETCH (BODY[] {10}\r\n0123456789)\r\n";

	small_limits(&lim);
	p = imap_parser_new(&cb, &lim);
	ck_assert_int_eq(imap_parser_feed(p, in, strlen(in)), -1);
	ck_assert_str_eq(imap_parser_error(p),
	    "literal_data callback stopped the parser at byte 24");
	imap_parser_free(p);
}
END_TEST

struct helper_seen {
	int n;
};

static int
check_helpers(void *ctx, const struct imap_response *r)
{
	struct helper_seen *seen = ctx;
	const struct imap_item *list, *v;
	const char *s;
	size_t len;
	uint64_t n;

	seen->n++;
	if (seen->n == 1) {
		ck_assert(imap_response_is(r, "ok"));
		ck_assert(!imap_response_is(r, "NO"));
		ck_assert_str_eq(imap_code_name(r), "UIDNEXT");
		ck_assert_int_eq(imap_code_number(r, "uidnext", &n), 0);
		ck_assert_uint_eq(n, 4392);
		ck_assert_int_eq(imap_code_number(r, "UIDVALIDITY", &n), -1);
		ck_assert_ptr_null(imap_code_arg(r, 1));
		return 0;
	}
	if (seen->n == 2) {
		ck_assert_str_eq(imap_code_name(r), "APPENDUID");
		ck_assert_int_eq(imap_item_number(imap_code_arg(r, 1), &n), 0);
		ck_assert_uint_eq(n, 3955);
		ck_assert(imap_response_is(r, "OK"));
		ck_assert_str_eq(r->tag, "A1");
		return 0;
	}
	ck_assert(!imap_response_is(r, "OK"));
	ck_assert_ptr_null(imap_code_name(r));
	ck_assert(imap_atom_is(imap_list_get(&(struct imap_item){
	    .kind = IMAP_LIST, .child = (struct imap_item *)r->items,
	    .count = r->count }, 1), "fetch"));
	list = imap_list_get(&(struct imap_item){ .kind = IMAP_LIST,
	    .child = (struct imap_item *)r->items, .count = r->count }, 2);
	ck_assert_ptr_nonnull(list);
	ck_assert_int_eq(imap_item_number(imap_fetch_find(list, "uid"), &n),
	    0);
	ck_assert_uint_eq(n, 7);
	v = imap_fetch_find(list, "BODY[]");
	ck_assert_int_eq(imap_item_string(v, &s, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_str_eq(s, "a\"b");
	ck_assert_ptr_null(imap_fetch_find(list, "\\Seen"));
	ck_assert_ptr_null(imap_fetch_find(list, "MODSEQ"));
	ck_assert_int_eq(imap_item_string(imap_fetch_find(list, "X"), &s,
	    NULL), -1);
	ck_assert_int_eq(imap_item_number(imap_fetch_find(list, "FLAGS"),
	    &n), -1);
	ck_assert_ptr_null(imap_list_get(list, 99));
	ck_assert(imap_atom_is(imap_list_get(imap_fetch_find(list, "FLAGS"),
	    0), "\\SEEN"));
	return 0;
}

/* A mailbox named "007" is a NUMBER to the grammar; its text survives. */
static int
check_digit_name(void *ctx, const struct imap_response *r)
{
	/* LIST, (), "/", 007 */
	const struct imap_item *name = r->count == 4 ?
	    r->items->next->next->next : NULL;
	const char *s;
	size_t len;
	uint64_t v;

	ck_assert_ptr_nonnull(name);
	ck_assert_int_eq(name->kind, IMAP_NUMBER);
	ck_assert_int_eq(imap_item_string(name, &s, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_int_eq(memcmp(s, "007", 3), 0);
	ck_assert_int_eq(imap_item_number(name, &v), 0);
	ck_assert_uint_eq(v, 7);
	(*(int *)ctx)++;
	return 0;
}

START_TEST(test_number_keeps_its_digits)
{
	int seen = 0;
	struct imap_parser_callbacks cb = { check_digit_name, NULL, &seen };
	struct imap_parser *p = imap_parser_new(&cb, NULL);
	const char *in = "* LIST () \"/\" 007\r\n";

	ck_assert_int_eq(imap_parser_feed(p, in, strlen(in)), 0);
	ck_assert_int_eq(seen, 1);
	imap_parser_free(p);
}
END_TEST

START_TEST(test_helpers)
{
	struct helper_seen seen = { 0 };
	struct imap_parser_callbacks cb = { check_helpers, NULL, &seen };
	struct imap_parser *p = imap_parser_new(&cb, NULL);
	const char *in = "* OK [UIDNEXT 4392] Predicted\r\n"
	    "A1 OK [APPENDUID 38505 3955] done\r\n"
	    "* 3 FETCH (FLAGS (\\Seen UID) UID 7 BODY[] \"a\\\"b\" X NIL"
	    " MODSEQ)\r\n";

	ck_assert_int_eq(imap_parser_feed(p, in, strlen(in)), 0);
	ck_assert_int_eq(imap_parser_eof(p), 0);
	ck_assert_int_eq(seen.n, 3);
	ck_assert(!imap_atom_is(NULL, "x"));
	ck_assert_ptr_null(imap_fetch_find(NULL, "x"));
	ck_assert_ptr_null(imap_code_name(NULL));
	imap_parser_free(p);
}
END_TEST

/* The 50 MB body: what the parser holds must not depend on its size. */
#define BIG_SIZE (50u * 1024 * 1024)

struct big_sink {
	uint64_t received;
	uint64_t mismatches;
	size_t max_memory;
	struct imap_parser *parser;
	int responses;
	uint64_t size_seen;
	uint64_t uid_seen;
};

static char
big_byte(uint64_t off)
{
	return (char)((off * 31 + (off >> 11)) & 0xff);
}

static int
big_literal(void *ctx, const struct imap_literal_info *w, const char *p,
    size_t n)
{
	struct big_sink *s = ctx;
	size_t mem = imap_parser_memory(s->parser);

	ck_assert_uint_eq(w->offset, s->received);
	ck_assert_uint_eq(w->size, BIG_SIZE);
	ck_assert_str_eq(w->item_name, "BODY[]");
	ck_assert_uint_eq(w->number, 1);
	for (size_t i = 0; i < n; i++)
		if (p[i] != big_byte(w->offset + i))
			s->mismatches++;
	s->received += n;
	if (mem > s->max_memory)
		s->max_memory = mem;
	return 0;
}

static int
big_response(void *ctx, const struct imap_response *r)
{
	struct big_sink *s = ctx;
	const struct imap_item *list = r->items->next->next;
	const struct imap_item *body = imap_fetch_find(list, "BODY[]");

	ck_assert_ptr_nonnull(body);
	ck_assert_int_eq(body->kind, IMAP_LITERAL);
	s->size_seen = body->num;
	ck_assert_int_eq(imap_item_number(imap_fetch_find(list, "UID"),
	    &s->uid_seen), 0);
	s->responses++;
	return 0;
}

START_TEST(test_50mb_literal_streams)
{
	struct big_sink s = { 0, 0, 0, NULL, 0, 0, 0 };
	struct imap_parser_callbacks cb = { big_response, big_literal, &s };
	const char *head = "* 1 FETCH (BODY[] {52428800}\r\n";
	const char *tail = " UID 7)\r\n";
	static char chunk[70000];
	uint32_t seed = 42;
	uint64_t off = 0;
	size_t start;

	s.parser = imap_parser_new(&cb, NULL);
	ck_assert_int_eq(imap_parser_feed(s.parser, head, strlen(head)), 0);
	start = imap_parser_memory(s.parser);
	while (off < BIG_SIZE) {
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 8) % sizeof(chunk);
		if (n > BIG_SIZE - off)
			n = BIG_SIZE - off;
		for (size_t i = 0; i < n; i++)
			chunk[i] = big_byte(off + i);
		ck_assert_int_eq(imap_parser_feed(s.parser, chunk, n), 0);
		off += n;
	}
	ck_assert_int_eq(imap_parser_feed(s.parser, tail, strlen(tail)), 0);
	ck_assert_int_eq(imap_parser_eof(s.parser), 0);
	ck_assert_uint_eq(s.received, BIG_SIZE);
	ck_assert_uint_eq(s.mismatches, 0);
	ck_assert_int_eq(s.responses, 1);
	ck_assert_uint_eq(s.size_seen, BIG_SIZE);
	ck_assert_uint_eq(s.uid_seen, 7);
	ck_assert_uint_le(s.max_memory, start);
	ck_assert_uint_lt(imap_parser_memory(s.parser), 16384);
	imap_parser_free(s.parser);
}
END_TEST

static int
count_cases(const struct parse_case *cases)
{
	int n = 0;

	while (cases[n].name != NULL)
		n++;
	return n;
}

static Suite *
parser_suite(void)
{
	Suite *s = suite_create("imap_parser");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_valid_responses, 0,
	    count_cases(valid_cases));
	tcase_add_loop_test(tc, test_malformed_responses, 0,
	    count_cases(error_cases));
	tcase_add_loop_test(tc, test_limits, 0, count_cases(limit_cases));
	tcase_add_test(tc, test_no_literal_consumer);
	tcase_add_test(tc, test_depth_default_and_unbounded);
	tcase_add_test(tc, test_callback_stops_parser);
	tcase_add_test(tc, test_literal_consumer_stops_parser);
	tcase_add_test(tc, test_helpers);
	tcase_add_test(tc, test_number_keeps_its_digits);
	tcase_add_test(tc, test_50mb_literal_streams);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(parser_suite());
}
