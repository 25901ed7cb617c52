/* conf_files.c — the files of one load: reading a file (text, at most 64
 * MiB), parsing it with libconfig, and the main file's `include`.
 *
 * include = [ "conf.d/<glob>.conf", "extra.conf" ] (a string or an array)
 * names files by glob or by name, relative to the main file's folder. The
 * files a glob matches are read in sorted order; a glob that matches nothing
 * is fine, a named file that is missing is an error. An included file holds
 * only lists of entries (checks, alerts, notifiers, maintenance, announcements): its
 * entries join the main file's lists (conf_section_entries), and its errors
 * are reported at its own lines. A file matched twice, or the main file
 * matched by its own glob, is read once. Included files include nothing.
 *
 * libconfig's own "@include" stays refused in every file: it would read
 * without these rules (any file, a FIFO that hangs the load). */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/conf_parse.h"
#include "core/buf.h"
#include "core/util.h"

/* The sections an included file may hold. */
static const char *const included_sections[] = { "checks", "alerts", "notifiers", "maintenance",
                                                 "announcements" };

/* --- reading and parsing -------------------------------------------------- */

/* Reads what fd holds into a new string of *len bytes (why set on failure). */
static char *read_all(int fd, size_t *len, char **why)
{
	struct buf b = BUF_MAX(CONF_FILE_MAX);

	buf_grow(&b, 64 * 1024);
	for (;;) {
		size_t room = b.cap - b.len - 1;
		ssize_t r;

		if (room == 0) {
			buf_grow(&b, b.cap);    /* double */
			room = b.cap - b.len - 1;
		}
		/* One byte past the ceiling tells "too large" from "exactly". */
		if (room > CONF_FILE_MAX + 1 - b.len)
			room = CONF_FILE_MAX + 1 - b.len;
		r = read(fd, b.p + b.len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*why = xasprintf("cannot read the configuration: %s", strerror(errno));
			break;
		}
		if (r == 0)
			return buf_steal(&b, len);
		b.len += (size_t)r;
		b.p[b.len] = '\0';
		if (b.len > CONF_FILE_MAX) {
			*why = xasprintf("the configuration is larger than %u MiB", CONF_FILE_MAX >> 20);
			break;
		}
	}
	buf_free(&b);
	return NULL;
}

char *conf_file_read(const char *path, bool regular_only, int *line, char **why)
{
	struct stat st;
	char *text = NULL;
	size_t len;
	int fd;

	*line = 0;
	*why = NULL;
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	fd = open(path, O_RDONLY | O_CLOEXEC | (regular_only ? O_NONBLOCK : 0));
	if (fd < 0) {
		*why = xasprintf("cannot open the configuration: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		*why = xstrdup("cannot read the configuration: it is a directory");
	else if (regular_only && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)))
		*why = xstrdup("cannot read the configuration: it is not a regular file");
	else
		text = read_all(fd, &len, why);
	close(fd);
	if (text == NULL)
		return NULL;
	if (memchr(text, '\0', len) != NULL) {
		*line = 1;
		for (const char *p = text; *p; p++)
			*line += *p == '\n';
		*why = xstrdup("the configuration contains a NUL byte (is it a text file?)");
		free(text);
		return NULL;
	}
	return text;
}

struct conf_file *conf_file_add(struct loader *ld, const char *path)
{
	struct conf_file *f = xcalloc(1, sizeof(*f));

	f->path = xstrdup(path);
	f->order = ld->n_files;
	config_init(&f->cfg);
	/* Every setting of this file reaches its root: the hook says whose. */
	config_setting_set_hook(config_root_setting(&f->cfg), f);
	ld->files = xrealloc(ld->files, (ld->n_files + 1) * sizeof(*ld->files));
	ld->files[ld->n_files++] = f;
	return f;
}

/* The line of the first "@include" directive in text, or 0. */
static int find_include(const char *text)
{
	int line = 1;

	for (const char *p = text; *p != '\0'; line++) {
		p += strspn(p, " \t");
		if (strncmp(p, "@include", 8) == 0)
			return line;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
	return 0;
}

/* libconfig's "syntax error" says little; say where to look. */
static const char *syntax_hint(const char *text)
{
	if (text != NULL && strcmp(text, "syntax error") == 0)
		return " (look for a missing \";\", \"=\", quote or closing bracket, or a missing \",\" between "
		       "the entries of a list, here or on the line before)";
	if (text != NULL && strcmp(text, "mismatched element type in array") == 0)
		return " (an array [ ... ] holds values of one type; use a list ( ... ) to mix them, like ( 200, \"3xx\" ))";
	return "";
}

int conf_file_parse(struct loader *ld, struct conf_file *f, const char *text)
{
	int inc = find_include(text);

	if (inc > 0) {
		conf_err_at(ld, f->order, inc,
		            xstrdup("@include is not supported: use include = [ \"conf.d/*.conf\" ] in the main file"),
		            NULL);
		return -1;
	}
	if (config_read_string(&f->cfg, text) != CONFIG_TRUE) {
		const char *t = config_error_text(&f->cfg);

		conf_err_at(ld, f->order, config_error_line(&f->cfg) > 0 ? config_error_line(&f->cfg) : 1,
		            xasprintf("%s%s", t ? t : "syntax error", syntax_hint(t)), NULL);
		return -1;
	}
	/* config_read_string made a new root. */
	config_setting_set_hook(config_root_setting(&f->cfg), f);
	return 0;
}

/* --- include -------------------------------------------------------------- */

/* Whether the file at path was read already in this load (same device and
 * inode: a file matched by two globs, or the main file by its own). */
static bool already_read(const struct loader *ld, const struct stat *st)
{
	for (size_t i = 0; i < ld->n_files; i++)
		if (ld->files[i]->ino != 0 && ld->files[i]->dev == st->st_dev && ld->files[i]->ino == st->st_ino)
			return true;
	return false;
}

/* Reads and parses the included file at path, named by the include entry e.
 * Returns 0, or -1 after recording why it cannot be used. */
static int include_file(struct loader *ld, struct conf *conf, const config_setting_t *e, const char *path,
                        bool from_glob)
{
	struct conf_file *f;
	struct stat st = { 0 };
	char *text, *why;
	int line, rc;

	if (stat(path, &st) == 0) {
		if (from_glob && S_ISDIR(st.st_mode))
			return 0;       /* a glob names files; a folder it matches is not one */
		if (already_read(ld, &st))
			return 0;
	}
	text = conf_file_read(path, true, &line, &why);
	if (text == NULL && line == 0) {
		conf_err(ld, e, "%s: %s: %s", conf_sname(ld, e), path, why);
		free(why);
		return -1;
	}
	f = conf_file_add(ld, path);
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	conf->included = xrealloc(conf->included, (conf->n_included + 1) * sizeof(*conf->included));
	conf->included[conf->n_included++] = xstrdup(path);
	f->conf_path = conf->included[conf->n_included - 1];
	if (text == NULL) {
		conf_err_at(ld, f->order, line, why, NULL);
		return -1;
	}
	rc = conf_file_parse(ld, f, text);
	free(text);
	return rc;
}

/* pattern, relative to the main file's folder unless absolute; a folder
 * with glob characters in its name has them escaped. A new string. */
static char *include_path(const char *main_path, const char *pattern)
{
	const char *slash = strrchr(main_path, '/');
	struct buf b = BUF_INIT;

	if (pattern[0] == '/' || slash == NULL)
		return xstrdup(pattern);
	for (const char *p = main_path; p <= slash; p++) {
		if (strchr("*?[\\", *p) != NULL)
			buf_addc(&b, '\\');
		buf_addc(&b, *p);
	}
	buf_adds(&b, pattern);
	return buf_steal(&b, NULL);
}

/* Reads the files of one include entry e (a glob or a name). */
static int include_entry(struct loader *ld, struct conf *conf, const config_setting_t *e)
{
	char *pattern = conf_get_str(ld, e, "include");
	char *path;
	glob_t g;
	int rc = 0, grc;

	if (pattern == NULL)
		return -1;
	if (*pattern == '\0') {
		conf_err(ld, e, "%s must not be empty", conf_sname(ld, e));
		free(pattern);
		return -1;
	}
	path = include_path(ld->name, pattern);
	if (strpbrk(pattern, "*?[") == NULL) {
		rc = include_file(ld, conf, e, path, false);
	} else {
		/* Sorted (no GLOB_NOSORT); no match is fine. */
		grc = glob(path, 0, NULL, &g);
		if (grc == GLOB_NOSPACE) {
			fputs("pharos: out of memory\n", stderr);
			abort();
		}
		if (grc == GLOB_ABORTED) {
			conf_err(ld, e, "%s: cannot read the folders of %s", conf_sname(ld, e), conf_quote(ld, path));
			rc = -1;
		}
		for (size_t i = 0; grc == 0 && i < g.gl_pathc; i++)
			if (include_file(ld, conf, e, g.gl_pathv[i], true) < 0)
				rc = -1;
		if (grc == 0)
			globfree(&g);
	}
	free(path);
	free(pattern);
	return rc;
}

/* What an included file may hold: the lists of entries, nothing else. */
static void check_included_root(struct loader *ld, const struct conf_file *f)
{
	const config_setting_t *root = config_root_setting(&f->cfg);
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		const char *hint;

		if (conf_in_list(included_sections, COUNT(included_sections), name))
			continue;
		if (strcmp(name, "agent") == 0 || strcmp(name, "defaults") == 0 || strcmp(name, "include") == 0) {
			conf_err(ld, s, "\"%s\" belongs in the main configuration file %s (an included file holds only checks, alerts, notifiers, maintenance and announcements)",
			         name, ld->name);
			continue;
		}
		hint = conf_closest(name, included_sections, COUNT(included_sections));
		if (hint != NULL)
			conf_err(ld, s, "unknown section \"%s\" (did you mean \"%s\"?)", name, hint);
		else
			conf_err(ld, s, "unknown section \"%s\" (an included file holds only checks, alerts, notifiers, maintenance and announcements)",
			         name);
	}
}

int conf_files_include(struct loader *ld, struct conf *conf, const config_setting_t *inc)
{
	size_t first = ld->n_files, n;
	int rc = 0;

	if (inc == NULL)
		return 0;
	n = conf_values(ld, inc, "the configuration",
	                "a path or an array of paths like [ \"conf.d/*.conf\" ]", "leave it out instead");
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (include_entry(ld, conf, conf_elem(inc, i)) < 0)
			rc = -1;
	if (rc < 0)
		return -1;
	for (size_t i = first; i < ld->n_files; i++)
		check_included_root(ld, ld->files[i]);
	return 0;
}
