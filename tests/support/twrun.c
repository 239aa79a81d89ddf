/* twrun: run the binary, build and read Maildir folders; see twrun.h. */
#include "twrun.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testlib.h"

extern char **environ;

/* The child's environment: ours minus what could change its behaviour. */
static char **
child_env(const char *home, const char *const *extra)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n] != NULL)
		n++;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (size_t i = 0; environ[i] != NULL; i++) {
		const char *e = environ[i];

		if (strncmp(e, "TWINBOX_", 8) == 0 ||
		    strncmp(e, "XDG_", 4) == 0 || strncmp(e, "HOME=", 5) == 0)
			continue;
		env[k++] = xstrdup(e);
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		env[k++] = xstrdup(extra[i]);
	if (asprintf(&env[k], "HOME=%s", home) < 0)
		ck_abort_msg("asprintf failed");
	return env;
}

static char **
child_argv(const char *bin, const char *const *args)
{
	size_t n = 0;
	char **argv;

	while (args[n] != NULL)
		n++;
	argv = xcalloc(n + 2, sizeof(*argv));
	argv[0] = xstrdup(bin);
	for (size_t i = 0; i < n; i++)
		argv[i + 1] = xstrdup(args[i]);
	return argv;
}

static void
free_vector(char **v)
{
	for (size_t i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
exec_child(const char *out_path, char **argv, char **env)
{
	int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	close(fd);
	execve(argv[0], argv, env);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int
tw_run(const char *home, const char *out_path, const char *const *args,
    const char *const *env, struct buf *out)
{
	char *bin = tl_bin_path();
	char **argv, **envp, *text;
	pid_t pid;
	int wstatus;

	argv = child_argv(bin, args);
	free(bin);
	envp = child_env(home, env);
	pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0)
		exec_child(out_path, argv, envp);
	free_vector(argv);
	free_vector(envp);
	while (waitpid(pid, &wstatus, 0) < 0)
		ck_assert_msg(errno == EINTR, "waitpid: %s", strerror(errno));
	text = tl_read_file(out_path, NULL);
	buf_adds(out, text);
	free(text);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return WEXITSTATUS(wstatus);
}

void
tw_write_uidvalidity(const char *dir, uint32_t uidvalidity, uint32_t last)
{
	char *path = tl_path(dir, ".uidvalidity");
	char text[64];

	snprintf(text, sizeof(text), "%u\n%u\n", uidvalidity, last);
	tl_write_str(path, text);
	free(path);
}

void
tw_read_uidvalidity(const char *dir, uint32_t *uidvalidity, uint32_t *last)
{
	char *path = tl_path(dir, ".uidvalidity");
	char *text = tl_read_file(path, NULL);

	ck_assert_msg(sscanf(text, "%u\n%u", uidvalidity, last) == 2,
	    "%s: unexpected contents \"%s\"", path, text);
	free(text);
	free(path);
}

void
tw_make_box(const char *dir, uint32_t uidvalidity, uint32_t last)
{
	static const char *const subs[] = { "cur", "new", "tmp" };

	for (size_t i = 0; i < 3; i++) {
		char *p = tl_path(dir, subs[i]);

		tl_mkdirs(p);
		free(p);
	}
	tw_write_uidvalidity(dir, uidvalidity, last);
}

static void
message_text(const char *id, int big, struct buf *out)
{
	buf_addf(out, "From: scen@example.org\nTo: user@example.org\n"
	    "Subject: message %s\nMessage-ID: <%s@scen.example>\n\n"
	    "Body of %s.\n", id, id, id);
	for (int i = 0; big && i < 40; i++)
		buf_addf(out, "%s line %02d: padding padding padding padding "
		    "padding\n", id, i);
}

void
tw_add_msg(const char *dir, const char *id, const char *flags, int big)
{
	struct buf text = BUF_INIT, name = BUF_INIT;
	uint32_t uv, last;

	tw_read_uidvalidity(dir, &uv, &last);
	last++;
	tw_write_uidvalidity(dir, uv, last);
	message_text(id, big, &text);
	if (flags != NULL && *flags != '\0')
		buf_addf(&name, "%s/cur/1700000000.%s.scen,U=%u:2,%s", dir, id,
		    last, flags);
	else
		buf_addf(&name, "%s/new/1700000000.%s.scen,U=%u", dir, id,
		    last);
	tl_write_file(name.data, text.data, text.len);
	buf_free(&text);
	buf_free(&name);
}

/* The local part of the Message-ID header of the file at path. */
static int
read_message_id(const char *path, char *id, size_t idlen)
{
	char *text = tl_read_file(path, NULL);
	const char *h = strstr(text, "Message-ID: <");
	const char *end = h ? strchr(h, '@') : NULL;
	int rc = -1;

	if (end != NULL && (size_t)(end - h - 13) < idlen) {
		memcpy(id, h + 13, (size_t)(end - h - 13));
		id[end - h - 13] = '\0';
		rc = 0;
	}
	free(text);
	return rc;
}

static void
parse_name(const char *name, struct tw_msg *m)
{
	const char *u = strstr(name, ",U=");
	const char *info = strstr(name, ":2,");

	m->uid = u ? (uint32_t)strtoul(u + 3, NULL, 10) : 0;
	m->flags[0] = '\0';
	if (info != NULL)
		snprintf(m->flags, sizeof(m->flags), "%s", info + 3);
}

static void
read_sub(const char *dir, const char *sub, struct tw_box *box)
{
	char *path = tl_path(dir, sub);
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL) {
		ck_assert_msg(errno == ENOENT, "opendir %s: %s", path,
		    strerror(errno));
		free(path);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct tw_msg *m;

		if (e->d_name[0] == '.')
			continue;
		box->v = xreallocarray(box->v, box->n + 1, sizeof(*box->v));
		m = &box->v[box->n++];
		m->path = tl_path(path, e->d_name);
		parse_name(e->d_name, m);
		ck_assert_msg(read_message_id(m->path, m->id,
		    sizeof(m->id)) == 0, "%s: no Message-ID", m->path);
	}
	closedir(d);
	free(path);
}

static int
cmp_msg(const void *a, const void *b)
{
	const struct tw_msg *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c == 0)
		c = strcmp(x->flags, y->flags);
	if (c == 0)
		c = (x->uid > y->uid) - (x->uid < y->uid);
	return c;
}

void
tw_read_box(const char *dir, struct tw_box *box)
{
	box->v = NULL;
	box->n = 0;
	read_sub(dir, "cur", box);
	read_sub(dir, "new", box);
	if (box->n > 0)
		qsort(box->v, box->n, sizeof(*box->v), cmp_msg);
}

void
tw_box_free(struct tw_box *box)
{
	for (size_t i = 0; i < box->n; i++)
		free(box->v[i].path);
	free(box->v);
	box->v = NULL;
	box->n = 0;
}

const struct tw_msg *
tw_box_find(const struct tw_box *box, const char *id)
{
	for (size_t i = 0; i < box->n; i++)
		if (strcmp(box->v[i].id, id) == 0)
			return &box->v[i];
	return NULL;
}

void
tw_box_format(const struct tw_box *box, int with_uids, struct buf *out)
{
	for (size_t i = 0; i < box->n; i++) {
		const struct tw_msg *m = &box->v[i];

		buf_addf(out, "%s%s", i ? " " : "", m->id);
		if (with_uids)
			buf_addf(out, "=%u", m->uid);
		buf_addf(out, ":%s", m->flags);
	}
}

/* The file name of m with a new UID and flags. */
static void
new_name(const struct tw_msg *m, const char *dir, uint32_t uid,
    const char *flags, struct buf *out)
{
	const char *base = strrchr(m->path, '/') + 1;
	size_t unique = strcspn(base, ",:");

	buf_addf(out, "%s/cur/%.*s,U=%u:2,%s", dir, (int)unique, base, uid,
	    flags);
}

static void
rename_or_fail(const char *from, const char *to)
{
	ck_assert_msg(rename(from, to) == 0, "rename %s to %s: %s", from, to,
	    strerror(errno));
}

void
tw_set_flags(const struct tw_msg *m, const char *dir, const char *flags)
{
	struct buf to = BUF_INIT;

	new_name(m, dir, m->uid, flags, &to);
	rename_or_fail(m->path, to.data);
	buf_free(&to);
}

void
tw_set_uid(const struct tw_msg *m, uint32_t uid)
{
	struct buf to = BUF_INIT, dir = BUF_INIT;
	const char *slash = strrchr(m->path, '/');

	/* The mailbox is two levels up from the file (dir/cur/name). */
	buf_add(&dir, m->path, (size_t)(slash - m->path));
	buf_truncate(&dir, (size_t)(strrchr(dir.data, '/') - dir.data));
	new_name(m, dir.data, uid, m->flags, &to);
	rename_or_fail(m->path, to.data);
	buf_free(&to);
	buf_free(&dir);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of dir's entries other than . and .. */
static char **
sorted_entries(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;

	ck_assert_msg(d != NULL, "opendir %s: %s", dir, strerror(errno));
	*n = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(v, *n, sizeof(*v), cmp_str);
	return v;
}

static void
tree_text(const char *dir, const char *rel, const char *skip,
    struct buf *out)
{
	size_t n;
	char **names = sorted_entries(dir, &n);

	for (size_t i = 0; i < n; i++) {
		char *path = tl_path(dir, names[i]);
		char *sub = tl_path(rel, names[i]);
		struct stat st;

		ck_assert_msg(lstat(path, &st) == 0, "lstat %s: %s", path,
		    strerror(errno));
		if (S_ISDIR(st.st_mode)) {
			buf_addf(out, "%s/\n", sub);
			tree_text(path, sub, skip, out);
		} else if (skip == NULL ||
		    strncmp(names[i], skip, strlen(skip)) != 0) {
			char *text = tl_read_file(path, NULL);

			buf_addf(out, "%s\n%s\n", sub, text);
			free(text);
		}
		free(path);
		free(sub);
		free(names[i]);
	}
	free(names);
}

void
tw_tree_text(const char *dir, const char *skip_prefix, struct buf *out)
{
	tree_text(dir, ".", skip_prefix, out);
}

void
tw_copy_tree(const char *src, const char *dst)
{
	size_t n;
	char **names = sorted_entries(src, &n);

	tl_mkdirs(dst);
	for (size_t i = 0; i < n; i++) {
		char *from = tl_path(src, names[i]);
		char *to = tl_path(dst, names[i]);
		struct stat st;

		ck_assert_msg(lstat(from, &st) == 0, "lstat %s: %s", from,
		    strerror(errno));
		if (S_ISDIR(st.st_mode)) {
			tw_copy_tree(from, to);
		} else {
			size_t len;
			char *data = tl_read_file(from, &len);

			tl_write_file(to, data, len);
			free(data);
		}
		free(from);
		free(to);
		free(names[i]);
	}
	free(names);
}

void
tw_reset_uidvalidity(const char *dir)
{
	struct tw_box box;
	uint32_t uv, last;

	tw_read_uidvalidity(dir, &uv, &last);
	tw_read_box(dir, &box);
	for (size_t i = 0; i < box.n; i++)
		tw_set_uid(&box.v[i], (uint32_t)(box.n - i));
	tw_write_uidvalidity(dir, uv + 1000, (uint32_t)box.n);
	tw_box_free(&box);
}

int
tw_strip_total(struct buf *out)
{
	regex_t re;
	regmatch_t m;
	int found;

	if (regcomp(&re, "^twinbox: [0-9]+ mailbox pairs?: [0-9]+ changed, "
	    "[^\n]* [0-9]+\\.[0-9] s\n", REG_EXTENDED | REG_NEWLINE) != 0)
		ck_abort_msg("regcomp failed");
	found = out->len > 0 && regexec(&re, out->data, 1, &m, 0) == 0;
	regfree(&re);
	if (!found)
		return 0;
	memmove(out->data + m.rm_so, out->data + m.rm_eo,
	    out->len - (size_t)m.rm_eo + 1);
	out->len -= (size_t)(m.rm_eo - m.rm_so);
	return 1;
}
