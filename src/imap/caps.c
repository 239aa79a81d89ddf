/* caps: server capabilities; see caps.h. */
#include "imap/caps.h"

#include <ctype.h>
#include <strings.h>

struct cap_name {
	const char *name;
	unsigned bit;
};

static const struct cap_name cap_names[] = {
	{ "IMAP4rev1", CAP_IMAP4REV1 },
	{ "STARTTLS", CAP_STARTTLS },
	{ "LOGINDISABLED", CAP_LOGINDISABLED },
	{ "SASL-IR", CAP_SASL_IR },
	{ "LITERAL+", CAP_LITERALPLUS },
	{ "LITERAL-", CAP_LITERALMINUS },
	{ "UIDPLUS", CAP_UIDPLUS },
	{ "NAMESPACE", CAP_NAMESPACE },
	{ "CONDSTORE", CAP_CONDSTORE },
	{ "MOVE", CAP_MOVE },
	{ "COMPRESS=DEFLATE", CAP_COMPRESS },
	{ "IDLE", CAP_IDLE },
	{ "ENABLE", CAP_ENABLE },
	{ "LIST-STATUS", CAP_LIST_STATUS },
	{ "QRESYNC", CAP_QRESYNC },
	{ "ESEARCH", CAP_ESEARCH },
	{ "NOTIFY", CAP_NOTIFY },
};

#define NCAPS (sizeof(cap_names) / sizeof(cap_names[0]))

static unsigned
cap_bit(const char *name)
{
	for (size_t i = 0; i < NCAPS; i++)
		if (strcasecmp(cap_names[i].name, name) == 0)
			return cap_names[i].bit;
	return 0;
}

void
imap_caps_clear(struct imap_caps *c)
{
	strlist_free(&c->auth);
	c->bits = 0;
}

static void
add_auth(struct imap_caps *c, const char *mech)
{
	struct buf up = BUF_INIT;

	for (const char *p = mech; *p != '\0'; p++)
		buf_addc(&up, (char)toupper((unsigned char)*p));
	if (up.len > 0 && !strlist_contains(&c->auth, up.data))
		strlist_add(&c->auth, up.data);
	buf_free(&up);
}

void
imap_caps_parse(struct imap_caps *c, const struct imap_item *first)
{
	imap_caps_clear(c);
	for (const struct imap_item *it = first; it != NULL; it = it->next) {
		if (it->kind != IMAP_ATOM)
			continue;
		if (strncasecmp(it->str, "AUTH=", 5) == 0)
			add_auth(c, it->str + 5);
		else
			c->bits |= cap_bit(it->str);
	}
}

int
imap_caps_disable(struct imap_caps *c, const struct strlist *names,
    struct buf *err)
{
	for (size_t i = 0; names != NULL && i < names->n; i++) {
		unsigned bit = cap_bit(names->v[i]);

		if (bit == 0) {
			buf_setf(err, "DisableExtensions: unknown extension "
			    "'%s'", names->v[i]);
			return -1;
		}
		c->bits &= ~bit;
	}
	return 0;
}

int
imap_caps_has_auth(const struct imap_caps *c, const char *mech)
{
	for (size_t i = 0; i < c->auth.n; i++)
		if (strcasecmp(c->auth.v[i], mech) == 0)
			return 1;
	return 0;
}
