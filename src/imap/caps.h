/*
 * caps: the capabilities a server announces (greeting, CAPABILITY
 * response or [CAPABILITY ...] code), as bits plus the AUTH= mechanisms.
 *
 * Contract:
 *  - struct imap_caps owns its auth list; imap_caps_clear() releases it
 *    and empties the set (the client does so when capabilities must be
 *    re-read: after STARTTLS and after login).
 *  - imap_caps_parse() replaces the whole set with the atoms from first
 *    on (the item after the word CAPABILITY); atoms are matched ignoring
 *    case, unknown ones are ignored, AUTH=X adds X (upper-cased).
 *  - imap_caps_disable() removes extensions named in DisableExtensions
 *    (names as in CAPABILITY, case-insensitive); it returns -1 with err
 *    naming the first it does not know, so a typo is not silently
 *    ignored.
 */
#ifndef TWINBOX_IMAP_CAPS_H
#define TWINBOX_IMAP_CAPS_H

#include "util/buf.h"
#include "imap/parser.h"
#include "store.h"

enum imap_cap {
	CAP_IMAP4REV1 = 1u << 0,
	CAP_STARTTLS = 1u << 1,
	CAP_LOGINDISABLED = 1u << 2,
	CAP_SASL_IR = 1u << 3,
	CAP_LITERALPLUS = 1u << 4,
	CAP_LITERALMINUS = 1u << 5,
	CAP_UIDPLUS = 1u << 6,
	CAP_NAMESPACE = 1u << 7,
	CAP_CONDSTORE = 1u << 8,
	CAP_MOVE = 1u << 9,
	CAP_COMPRESS = 1u << 10,
	CAP_IDLE = 1u << 11,
	CAP_ENABLE = 1u << 12,
	CAP_LIST_STATUS = 1u << 13,
	CAP_QRESYNC = 1u << 14,
	CAP_ESEARCH = 1u << 15,
	CAP_NOTIFY = 1u << 16
};

struct imap_caps {
	unsigned bits;
	struct strlist auth;	/* AUTH= mechanisms, upper case */
};

void imap_caps_parse(struct imap_caps *c, const struct imap_item *first);
void imap_caps_clear(struct imap_caps *c);
int imap_caps_disable(struct imap_caps *c, const struct strlist *names,
    struct buf *err);
/* 1 if the server offers AUTH=mech (mech in any case). */
int imap_caps_has_auth(const struct imap_caps *c, const char *mech);

#endif
