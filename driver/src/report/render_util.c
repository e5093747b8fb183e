/*
 * render_util.c
 *		Cell and string helpers shared by every rendering of the report
 *		(report_render.c, replay_render.c, render_*.c): they depend on
 *		nothing but the JSON document, so no renderer needs another.
 */
#include <string.h>

#include "render.h"
#include "report.h"
#include "util.h"

/* A string member of o, or "" when it is absent or not a string. */
const char *
report_str(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

/* Markdown table cell: no pipes or newlines. */
void
report_md_cell(strbuf *sb, const char *s)
{
	for (; s && *s; s++)
	{
		if (*s == '|')
			sb_append(sb, "\\|");
		else if (*s == '\n' || *s == '\r')
			sb_append(sb, " ");
		else
			sb_appendn(sb, s, 1);
	}
}

/* How many rows of an array have this status. */
int
report_count_status(json_t *rows, const char *status)
{
	size_t		i;
	json_t	   *r;
	int			n = 0;

	json_array_foreach(rows, i, r)
		if (strcmp(report_str(r, "status"), status) == 0)
		n++;
	return n;
}

/*
 * Text in a TAP test line: one line, and no '#' (which would start a
 * directive: a message with "# SKIP" in it must not skip the test).
 */
void
tap_text(strbuf *sb, const char *s)
{
	for (; s && *s; s++)
	{
		if (*s == '\n' || *s == '\r')
			sb_append(sb, " ");
		else if (*s == '#')
			sb_append(sb, "\\#");
		else
			sb_appendn(sb, s, 1);
	}
}
