/*
 * store_imap_names: mailbox names between the canonical form and the
 * server's (namespace prefix, delimiter, modified UTF-7), and the
 * mailbox-level commands CREATE and DELETE. The listing is
 * store_imap_list.c's.
 */
#include "imap/store_imap_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/utf7.h"

static int
is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

/* The mailbox named is not the one open: say only which store. */
static int
name_err(const struct imap_store *s, struct buf *err, const char *name,
    const char *why)
{
	buf_setf(err, "imap store '%s': mailbox name '%s' %s", s->name, name,
	    why);
	return -1;
}

int
ims_to_wire(struct imap_store *s, const char *name, struct buf *out,
    struct buf *err)
{
	struct buf plain = BUF_INIT;
	char why[64];
	int rc;

	buf_reset(out);
	if (is_inbox(name)) {
		buf_adds(out, "INBOX");
		return 0;
	}
	if (name[0] == '\0' || name[0] == '/' ||
	    name[strlen(name) - 1] == '/' || strstr(name, "//") != NULL)
		return name_err(s, err, name, "has an empty component");
	if (s->delim != '/' && strchr(name, s->delim) != NULL) {
		snprintf(why, sizeof(why), "contains the server's hierarchy "
		    "delimiter '%c'", s->delim);
		return name_err(s, err, name, why);
	}
	for (const char *p = name; *p != '\0'; p++)
		buf_addc(&plain, *p == '/' ? s->delim : *p);
	buf_adds(out, s->prefix);
	rc = imap_utf7_encode(plain.data, out, err);
	if (rc != 0) {
		buf_reset(&plain);	/* done with; holds the cause now */
		buf_adds(&plain, buf_cstr(err));
		buf_setf(err, "imap store '%s': %s", s->name, plain.data);
	}
	buf_free(&plain);
	return rc;
}

int
ims_from_wire(struct imap_store *s, const char *wire, struct buf *out,
    struct buf *err)
{
	size_t plen = strlen(s->prefix);
	struct buf dec = BUF_INIT;
	int rc = 1;

	buf_reset(out);
	if (is_inbox(wire)) {
		buf_adds(out, "INBOX");
		return 0;
	}
	if (strncmp(wire, s->prefix, plen) != 0 || wire[plen] == '\0')
		return 1;
	if (imap_utf7_decode(wire + plen, &dec, err) != 0) {
		buf_free(&dec);
		return -1;
	}
	if (s->delim == '/' || strchr(dec.data, '/') == NULL) {
		for (const char *p = dec.data; *p != '\0'; p++)
			buf_addc(out, *p == s->delim ? '/' : *p);
		rc = 0;
	}
	buf_free(&dec);
	return rc;
}

static int
mailbox_command(struct imap_store *s, const char *cmd, const char *mbox,
    const char *tail, imap_op_fn fn, void *ctx, struct buf *err)
{
	struct imap_cmdline l;
	struct buf wire = BUF_INIT;
	int rc = ims_to_wire(s, mbox, &wire, err);

	if (rc != 0) {
		buf_free(&wire);
		return -1;
	}
	imap_cmd_init(&l);
	imap_cmd_addf(&l, "%s ", cmd);
	imap_cmd_add_string(&l, wire.data, 0);
	if (tail != NULL)
		imap_cmd_add(&l, tail);
	rc = ims_run(s, &l, fn, ctx, err);
	imap_cmd_free(&l);
	buf_free(&wire);
	return rc;
}

/* A listing made with NAMESPACE that list() has not taken yet would miss
 * what CREATE and DELETE change: list() then asks again. */
static void
drop_prelisting(struct imap_store *s)
{
	if (s->peek.prelisted)
		ims_peek_clear(s);
}

/* The answer to CREATE. exists: refused with [ALREADYEXISTS] (RFC 5530),
 * which a server gives when the mailbox was made since our listing (by
 * another client, or another run syncing the same folder): what CREATE
 * was for holds, and the pair goes on to open it. */
struct create_answer {
	struct ims_answer a;	/* first: done() is given its address */
	int exists;
};

static void
create_done(void *ctx, const struct imap_response *r)
{
	struct create_answer *c = ctx;
	const char *code = imap_code_name(r);

	ims_answer_done(&c->a, r);
	c->exists = !c->a.ok && imap_response_is(r, "NO") && code != NULL &&
	    strcasecmp(code, "ALREADYEXISTS") == 0;
}

int
ims_create(struct store *st, const char *mbox, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	struct create_answer c = { .a = { .status = BUF_INIT,
	    .log = BUF_INIT } };
	struct imap_cmdline l;
	struct buf wire = BUF_INIT;
	int rc;

	drop_prelisting(s);
	if (ims_to_wire(s, mbox, &wire, err) != 0) {
		buf_free(&wire);
		return -1;
	}
	imap_cmd_init(&l);
	imap_cmd_add(&l, "CREATE ");
	imap_cmd_add_string(&l, wire.data, 0);
	rc = ims_wait_burst(s, ims_answer_submit(s, &l, create_done, &c.a,
	    err), err);
	if (rc == 0 && c.exists)
		log_verbose(s->base.lg, "imap store '%s': mailbox '%s' exists "
		    "already (made since the listing): %s", s->name, mbox,
		    buf_cstr(&c.a.status));
	else if (rc == 0 && !c.a.ok) {
		/* Named by the store alone: the mailbox still selected is
		 * not the one refused. */
		buf_setf(err, "imap store '%s': %s: %s: %s", s->name,
		    imap_client_peer(s->c), buf_cstr(&c.a.log),
		    buf_cstr(&c.a.status));
		rc = -1;
	} else if (rc == 0) {
		log_verbose(s->base.lg, "imap store '%s': created mailbox "
		    "'%s'", s->name, mbox);
	}
	ims_answers_free(&c.a, 1);
	imap_cmd_free(&l);
	buf_free(&wire);
	return rc;
}

static int
status_messages(void *ctx, const struct imap_response *r)
{
	uint64_t *count = ctx;
	const struct imap_item *att;

	if (!imap_atom_is(r->items, "STATUS") || r->items->next == NULL)
		return 0;
	att = r->items->next->next;
	if (att != NULL && att->kind == IMAP_LIST)
		imap_item_number(imap_fetch_find(att, "MESSAGES"), count);
	return 0;
}

/*
 * ims_close() forgets the mailbox but the server keeps it selected, and a
 * server may end the session when the selected mailbox is deleted
 * (Dovecot: "Selected mailbox was deleted, have to disconnect"). EXAMINE
 * then CLOSE leaves nothing selected and expunges nothing (RFC 3501
 * 6.4.2), with or without UNSELECT.
 */
static int
deselect(struct imap_store *s, const char *mbox, struct buf *err)
{
	struct imap_cmdline l;
	int rc;

	ims_close(s);
	if (mailbox_command(s, "EXAMINE", mbox, NULL, NULL, NULL, err) != 0)
		return -1;
	imap_cmd_init(&l);
	imap_cmd_add(&l, "CLOSE");
	rc = ims_run(s, &l, NULL, NULL, err);
	imap_cmd_free(&l);
	return rc;
}

int
ims_remove(struct store *st, const char *mbox, struct buf *err)
{
	struct imap_store *s = (struct imap_store *)st;
	uint64_t count = UINT64_MAX;

	if (is_inbox(mbox)) {
		ims_err(s, err, "INBOX cannot be removed");
		return -1;
	}
	drop_prelisting(s);
	if (s->mbox != NULL && strcmp(s->mbox, mbox) == 0 &&
	    deselect(s, mbox, err) != 0)
		return -1;
	if (mailbox_command(s, "STATUS", mbox, " (MESSAGES)",
	    status_messages, &count, err) != 0)
		return -1;
	if (count != 0) {
		ims_err(s, err, "mailbox '%s' is not empty; refusing to "
		    "remove it", mbox);
		return -1;
	}
	if (mailbox_command(s, "DELETE", mbox, NULL, NULL, NULL, err) != 0)
		return -1;
	log_verbose(s->base.lg, "imap store '%s': removed mailbox '%s'",
	    s->name, mbox);
	return 0;
}
