/* parser_item: read-only helpers for response trees; see parser.h. */
#include <strings.h>

#include "imap/parser.h"

int
imap_atom_is(const struct imap_item *item, const char *name)
{
	/* The first byte, folded to lower case for letters, settles most
	 * comparisons without a call (five per FETCH response in a scan). */
	return item != NULL && item->kind == IMAP_ATOM &&
	    (item->str[0] | 0x20) == (name[0] | 0x20) &&
	    strcasecmp(item->str, name) == 0;
}

const struct imap_item *
imap_list_get(const struct imap_item *list, size_t index)
{
	const struct imap_item *it;

	if (list == NULL || list->kind != IMAP_LIST || index >= list->count)
		return NULL;
	for (it = list->child; index > 0; index--)
		it = it->next;
	return it;
}

/* Names sit at even positions; a value that happens to equal a name
 * (a flag list holding an atom UID, say) must not be mistaken for one. */
const struct imap_item *
imap_fetch_find(const struct imap_item *list, const char *name)
{
	const struct imap_item *it;

	if (list == NULL || list->kind != IMAP_LIST)
		return NULL;
	for (it = list->child; it != NULL && it->next != NULL;
	    it = it->next->next) {
		if (imap_atom_is(it, name))
			return it->next;
	}
	return NULL;
}

int
imap_item_number(const struct imap_item *item, uint64_t *out)
{
	if (item == NULL || item->kind != IMAP_NUMBER)
		return -1;
	*out = item->num;
	return 0;
}

int
imap_item_string(const struct imap_item *item, const char **s, size_t *len)
{
	if (item == NULL || (item->kind != IMAP_STRING &&
	    item->kind != IMAP_ATOM && item->kind != IMAP_NUMBER))
		return -1;
	*s = item->str;
	if (len != NULL)
		*len = item->len;
	return 0;
}

int
imap_response_is(const struct imap_response *resp, const char *status)
{
	if (resp == NULL || resp->type == IMAP_CONTINUATION ||
	    resp->text == NULL)
		return 0;
	return imap_atom_is(resp->items, status);
}

const char *
imap_code_name(const struct imap_response *resp)
{
	if (resp == NULL || resp->code == NULL ||
	    resp->code->child == NULL || resp->code->child->kind != IMAP_ATOM)
		return NULL;
	return resp->code->child->str;
}

const struct imap_item *
imap_code_arg(const struct imap_response *resp, size_t index)
{
	if (resp == NULL || resp->code == NULL)
		return NULL;
	return imap_list_get(resp->code, index + 1);
}

int
imap_code_number(const struct imap_response *resp, const char *name,
    uint64_t *out)
{
	const char *code = imap_code_name(resp);

	if (code == NULL || strcasecmp(code, name) != 0)
		return -1;
	return imap_item_number(imap_code_arg(resp, 0), out);
}
