/* database.c — telling a SQLite path from a store URI by its scheme. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/database.h"

/* Length of the scheme that starts value (RFC 3986 letters) when "://"
 * follows it, else 0. */
static size_t scheme_length(const char *value)
{
	size_t n = 0;

	if (value == NULL || !isalpha((unsigned char)value[0]))
		return 0;
	while (isalnum((unsigned char)value[n]) || value[n] == '+' || value[n] == '-' ||
	       value[n] == '.')
		n++;
	return strncmp(value + n, "://", 3) == 0 ? n : 0;
}

enum database_kind database_kind(const char *value, char *scheme, size_t scheme_len)
{
	size_t n = scheme_length(value);
	char lower[32];

	if (scheme != NULL && scheme_len > 0)
		scheme[0] = '\0';
	if (n == 0)
		return DATABASE_SQLITE;
	if (n >= sizeof(lower))
		n = sizeof(lower) - 1;
	for (size_t i = 0; i < n; i++)
		lower[i] = (char)tolower((unsigned char)value[i]);
	lower[n] = '\0';
	if (scheme != NULL && scheme_len > 0)
		snprintf(scheme, scheme_len, "%s", lower);
	if (strcmp(lower, "postgresql") == 0 || strcmp(lower, "postgres") == 0)
		return DATABASE_POSTGRESQL;
	return DATABASE_UNKNOWN;
}

const char *database_unsupported(const char *value, char *buf, size_t len)
{
	char scheme[32];

	switch (database_kind(value, scheme, sizeof(scheme))) {
	case DATABASE_SQLITE:
		return NULL;
	case DATABASE_POSTGRESQL:
		snprintf(buf, len, "the PostgreSQL store (%s://) is not built yet in this pharos:"
		         " use a file path (SQLite)", scheme);
		return buf;
	case DATABASE_UNKNOWN:
		break;
	}
	snprintf(buf, len, "unknown database scheme \"%s://\": use a file path (SQLite)", scheme);
	return buf;
}
