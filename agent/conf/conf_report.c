/* conf_report.c — what a load says: errors and warnings as "FILE:LINE:
 * message" (in the file where the setting is, main or included), sorted and
 * masked against the load's secrets, and the small helpers that build the
 * text of a message (quoting, naming a setting, "did you mean"). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf_parse.h"
#include "core/log.h"
#include "core/suggest.h"
#include "core/util.h"

/* --- where a setting is ---------------------------------------------------- */

size_t conf_file_of(const struct loader *ld, const config_setting_t *s)
{
	const struct conf_file *f;

	if (s == NULL || s->config == NULL)
		return 0;
	f = config_setting_get_hook(config_root_setting(s->config));
	return f != NULL && f->order < ld->n_files ? f->order : 0;
}

/* --- errors, warnings and messages ---------------------------------------- */

struct err_line {
	size_t file;                        /* the file's order: 0 is the main file */
	int line;
	char *msg;
	const config_setting_t *setting;    /* what it is about (NULL: none) */
};

/* First nonzero line of s or its enclosing groups (elements of arrays have
 * their own lines; the root has none). */
int conf_setting_line(const config_setting_t *s)
{
	while (s != NULL) {
		int line = (int)config_setting_source_line(s);

		if (line > 0)
			return line;
		s = config_setting_parent(s);
	}
	return 1;
}

void conf_err_at(struct loader *ld, size_t file, int line, char *msg, const config_setting_t *s)
{
	if (ld->n_errs >= CONF_ERRORS_MAX) {
		ld->too_many = true;
		free(msg);
		return;
	}
	if (ld->n_errs == ld->cap_errs) {
		ld->cap_errs = ld->cap_errs ? ld->cap_errs * 2 : 16;
		ld->errs = xrealloc(ld->errs, ld->cap_errs * sizeof(*ld->errs));
	}
	ld->errs[ld->n_errs].file = file;
	ld->errs[ld->n_errs].line = line;
	ld->errs[ld->n_errs].msg = msg;
	ld->errs[ld->n_errs].setting = s;
	ld->n_errs++;
}

/* What the error lines of the file with that order start with. */
static const char *file_name(const struct loader *ld, size_t file)
{
	return file < ld->n_files ? ld->files[file]->path : ld->name;
}

/* Records an error at the line of s, in the file s comes from. */
__attribute__((format(printf, 3, 4)))
void conf_err(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	conf_err_at(ld, conf_file_of(ld, s), conf_setting_line(s), msg, s);
}

/* Records a warning at the line of s: logged only when the load succeeds
 * (a config with errors is rejected, its errors say enough). */
__attribute__((format(printf, 3, 4)))
void conf_warn(struct loader *ld, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;
	char *msg, *line;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	line = xasprintf("%s:%d: warning: %s", file_name(ld, conf_file_of(ld, s)), conf_setting_line(s), msg);
	free(msg);
	if (ld->n_warnings == ld->cap_warnings) {
		ld->cap_warnings = ld->cap_warnings ? ld->cap_warnings * 2 : 16;
		ld->warnings = xrealloc(ld->warnings, ld->cap_warnings * sizeof(*ld->warnings));
	}
	ld->warnings[ld->n_warnings++] = line;
}

/* Whether an error was recorded about s itself (its value is not usable for
 * checks that combine settings: one mistake, one message). */
bool conf_had_error(const struct loader *ld, const config_setting_t *s)
{
	if (s == NULL)
		return false;
	/* Linear, but in at most CONF_ERRORS_MAX entries. */
	for (size_t i = 0; i < ld->n_errs; i++)
		if (ld->errs[i].setting == s)
			return true;
	return false;
}

/* Keeps s until the load ends (for strings built only to be printed). The
 * array doubles: a load of 100,000 checks keeps a few hundred thousand. */
const char *conf_tmp(struct loader *ld, char *s)
{
	if (ld->n_tmp == ld->cap_tmp) {
		ld->cap_tmp = ld->cap_tmp ? ld->cap_tmp * 2 : 64;
		ld->tmp = xrealloc(ld->tmp, ld->cap_tmp * sizeof(*ld->tmp));
	}
	ld->tmp[ld->n_tmp++] = s;
	return s;
}

/* A quoted, printable, bounded form of a value from the config for a message:
 * control characters escaped (an error is always one line), cut at 80. */
const char *conf_quote(struct loader *ld, const char *s)
{
	size_t cap = 80, n = 0;
	char *out = xmalloc(cap * 4 + 8);
	char *p = out;

	*p++ = '"';
	for (; *s != '\0' && n < cap; s++, n++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			*p++ = '\\';
			*p++ = (char)ch;
		} else if (ch < 0x20 || ch == 0x7f) {
			p += sprintf(p, "\\x%02x", ch);
		} else {
			*p++ = (char)ch;
		}
	}
	if (*s != '\0') {
		memcpy(p, "...", 3);
		p += 3;
	}
	*p++ = '"';
	*p = '\0';
	return conf_tmp(ld, out);
}

/* --- small helpers -------------------------------------------------------- */

const char *conf_type_desc(int type)
{
	switch (type) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number with a fraction";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_GROUP: return "a group { ... }";
	case CONFIG_TYPE_ARRAY: return "an array [ ... ]";
	case CONFIG_TYPE_LIST: return "a list ( ... )";
	}
	return "nothing";
}

/* How to name s in a message: "port" or "status" entry 2. */
const char *conf_sname(struct loader *ld, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	const config_setting_t *parent;

	if (name != NULL)
		return conf_tmp(ld, xasprintf("\"%s\"", name));
	parent = config_setting_parent(s);
	if (parent != NULL && config_setting_name(parent) != NULL)
		return conf_tmp(ld, xasprintf("\"%s\" entry %d", config_setting_name(parent),
		                              config_setting_index(s) + 1));
	return "value";
}

/* The closest candidate to word (case-insensitive equal, or at most 2 edits
 * and fewer edits than the word has characters), or NULL. */
const char *conf_closest(const char *word, const char *const *cands, size_t n)
{
	return suggest_closest(word, cands, n, 2);
}

bool conf_errors_full(const struct loader *ld)
{
	return ld->too_many || ld->n_errs >= CONF_ERRORS_MAX;
}

/* " (did you mean \"hint\"?)" for the end of a message, or "" when hint
 * is NULL. */
const char *conf_did_you_mean(struct loader *ld, const char *hint)
{
	if (hint == NULL)
		return "";
	return conf_tmp(ld, xasprintf(" (did you mean \"%s\"?)", hint));
}

/* Replaces every secret of this load in msg by "***" (longest first, so a
 * secret containing another is masked whole). Short secrets are masked too
 * when they are at least 4 characters, like the log does. */
static char *mask(struct loader *ld, char *msg)
{
	for (size_t i = 0; i < ld->n_secrets; i++) {
		const char *sec = ld->secrets[i];
		size_t sl = strlen(sec);
		char *hit;

		if (sl < 4)
			continue;
		while ((hit = strstr(msg, sec)) != NULL) {
			char *next = xasprintf("%.*s***%s", (int)(hit - msg), msg, hit + sl);

			free(msg);
			msg = next;
		}
	}
	return msg;
}

static int cmp_secret_len(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

static int cmp_err(const void *a, const void *b)
{
	const struct err_line *x = a, *y = b;

	if (x->file != y->file)
		return x->file < y->file ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	/* Same line: keep the order found (msg pointers do not say it; the
	 * caller's stable pass below does). */
	return 0;
}

void conf_errors_add(struct conf_errors *errs, char *line)
{
	errs->lines = xrealloc(errs->lines, (errs->n + 1) * sizeof(*errs->lines));
	errs->lines[errs->n++] = line;
}

/* Hands the loader's errors to errs, sorted by file and line (stable: on
 * one line, in the order found), masked. */
void conf_errors_flush(struct loader *ld, struct conf_errors *errs)
{
	if (ld->n_secrets > 1)
		qsort(ld->secrets, ld->n_secrets, sizeof(*ld->secrets), cmp_secret_len);
	/* Insertion sort: stable, and error lists are short (at most 100). */
	for (size_t i = 1; i < ld->n_errs; i++) {
		struct err_line e = ld->errs[i];
		size_t j = i;

		while (j > 0 && cmp_err(&ld->errs[j - 1], &e) > 0) {
			ld->errs[j] = ld->errs[j - 1];
			j--;
		}
		ld->errs[j] = e;
	}
	for (size_t i = 0; i < ld->n_errs; i++) {
		char *line = mask(ld, xasprintf("%s:%d: %s", file_name(ld, ld->errs[i].file),
		                                  ld->errs[i].line, ld->errs[i].msg));

		conf_errors_add(errs, line);
		free(ld->errs[i].msg);
	}
	if (ld->too_many) {
		conf_errors_add(errs, xasprintf("%s: too many errors, only the first %d are shown",
		                         ld->name, CONF_ERRORS_MAX));
	}
	free(ld->errs);
	ld->errs = NULL;
	ld->n_errs = 0;
}

void conf_warnings_log(const struct loader *ld)
{
	for (size_t i = 0; i < ld->n_warnings; i++)
		log_warn(ld->warnings[i]);
}

void conf_messages_free(struct loader *ld)
{
	for (size_t i = 0; i < ld->n_errs; i++)
		free(ld->errs[i].msg);
	free(ld->errs);
	for (size_t i = 0; i < ld->n_warnings; i++)
		free(ld->warnings[i]);
	free(ld->warnings);
}
