/* select: channel Patterns against mailbox names; see select.h. */
#include "sync/select.h"

#include <string.h>
#include <strings.h>

/* "INBOX" in any case, alone or as the first component, is spelled INBOX
 * so that matching does not depend on how a server wrote it. */
static int
is_inbox_prefix(const char *s)
{
	return strncasecmp(s, "INBOX", 5) == 0 && (s[5] == '\0' || s[5] == '/');
}

static int
glob_at(const char *p, const char *n)
{
	for (; *p != '\0'; p++, n++) {
		if (*p == '*' || *p == '%') {
			int stop_at_slash = (*p == '%');

			for (;; n++) {
				if (glob_at(p + 1, n))
					return 1;
				if (*n == '\0' || (stop_at_slash && *n == '/'))
					return 0;
			}
		}
		if (*n != *p)
			return 0;
	}
	return *n == '\0';
}

int
select_glob(const char *pattern, const char *name)
{
	if (is_inbox_prefix(pattern) && is_inbox_prefix(name))
		return glob_at(pattern + 5, name + 5);
	return glob_at(pattern, name);
}

int
select_match(const struct strlist *patterns, const char *name)
{
	int selected = 0;

	for (size_t i = 0; i < patterns->n; i++) {
		const char *p = patterns->v[i];
		int negated = (p[0] == '!');

		if (select_glob(negated ? p + 1 : p, name))
			selected = !negated;
	}
	return selected;
}

static void
add_selected(const struct strlist *patterns, const struct strlist *names,
    struct strlist *out)
{
	for (size_t i = 0; i < names->n; i++)
		if (select_match(patterns, names->v[i]) &&
		    !strlist_contains(out, names->v[i]))
			strlist_add(out, names->v[i]);
}

void
select_boxes(const struct strlist *patterns, const struct strlist *far,
    const struct strlist *near, struct strlist *out)
{
	add_selected(patterns, far, out);
	add_selected(patterns, near, out);
	strlist_sort(out);
}
