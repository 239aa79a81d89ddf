/*
 * config_lex: one configuration line into words, with mbsync's rules.
 *
 * Words are separated by white space. A double quote anywhere in a word
 * toggles quoting (inside quotes white space is part of the word), a
 * backslash makes the next character literal, and '#' at the start of a
 * word comments out the rest of the line. So `"a b"c` is the word `a bc`,
 * `""` is an empty word and `pa#ss` is one word.
 */
#include <ctype.h>

#include "config/config_p.h"

/*
 * One word starting at line[*i] (not white space, not '#') into w;
 * *i is left after it. -1 with the reason in why if it is unterminated.
 */
static int
read_word(const char *line, size_t len, size_t *i, struct buf *w,
    struct buf *why)
{
	int quoted = 0, escaped = 0;

	buf_reset(w);
	buf_add(w, "", 0);	/* an empty word is "", not NULL */
	for (; *i < len; (*i)++) {
		unsigned char c = (unsigned char)line[*i];

		if (escaped && c >= 32) {
			escaped = 0;
			buf_addc(w, (char)c);
		} else if (escaped) {
			break;	/* control characters cannot be escaped */
		} else if (c == '\\') {
			escaped = 1;
		} else if (c == '"') {
			quoted = !quoted;
		} else if (!quoted && isspace(c)) {
			break;
		} else {
			buf_addc(w, (char)c);
		}
	}
	if (escaped) {
		buf_setf(why, "unterminated escape: expected a character "
		    "after '\\'");
		return -1;
	}
	if (quoted) {
		buf_setf(why, "unterminated quote: expected a closing '\"' "
		    "before the end of the line");
		return -1;
	}
	return 0;
}

int
cfg_split_line(const char *line, size_t len, struct strlist *words,
    int *comment, struct buf *why)
{
	struct buf w = BUF_INIT;
	size_t i = 0;
	int n = 0;

	*comment = 0;
	buf_grow(&w, len);	/* never moved: a word may be a password */
	for (;;) {
		while (i < len && isspace((unsigned char)line[i]))
			i++;
		if (i == len)
			break;
		if (line[i] == '#') {
			*comment = 1;
			break;
		}
		if (read_word(line, len, &i, &w, why) != 0) {
			buf_wipe(&w);
			return -1;
		}
		strlist_add(words, buf_cstr(&w));
		n++;
	}
	buf_wipe(&w);
	return n;
}
