/* json_text.c — a JSON string from any C string (json_text.h). */
#include <stdlib.h>

#include "core/json_text.h"
#include "core/util.h"

json_t *json_text(const char *s)
{
	json_t *j = json_string(s != NULL ? s : "");
	char *copy;

	if (j != NULL)
		return j;
	copy = xstrdup(s);
	for (char *p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}
