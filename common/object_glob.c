/*
 * common/object_glob.c
 *		Object globs of suppressions (see object_glob.h), compiled into both
 *		the extension and the driver.
 */
#include "object_glob.h"

#include <string.h>

bool
dd_glob_match(const char *p, const char *s, size_t len)
{
	const char *end = s + len;
	const char *star_p = NULL;
	const char *star_s = NULL;

	while (s < end)
	{
		if (*p == '*')
		{
			star_p = ++p;
			star_s = s;
		}
		else if (*p != '\0' && (*p == '?' || *p == *s))
		{
			p++;
			s++;
		}
		else if (star_p)
		{
			p = star_p;
			s = ++star_s;
		}
		else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/*
 * G matches O, or the part of O before a '.' or '(' (G.* and G(*), a '*'
 * matches anything, so some split of O must match G), or the part after an
 * " on " ("* on G").
 */
bool
dd_object_glob_match(const char *glob, const char *object)
{
	size_t		n;

	if (object == NULL)
		object = "";
	n = strlen(object);
	if (dd_glob_match(glob, object, n))
		return true;
	for (size_t i = 0; i < n; i++)
	{
		if ((object[i] == '.' || object[i] == '(') && dd_glob_match(glob, object, i))
			return true;
		if (strncmp(object + i, " on ", 4) == 0 &&
			dd_glob_match(glob, object + i + 4, n - i - 4))
			return true;
	}
	return false;
}
