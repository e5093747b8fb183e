/*
 * history.h
 *		A project's migration history as drydock replays it: an ordered list
 *		of up/down pairs read from the layouts people use (golang-migrate,
 *		goose, dbmate, sqitch, Flyway).
 */
#ifndef DRYDOCK_HISTORY_H
#define DRYDOCK_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct migration_part
{
	char	   *path;			/* the file it comes from (for FILE:LINE) */
	char	   *text;			/* what to apply; for one-file layouts the
								 * other section's lines are blanked, so line
								 * numbers are the file's own */
	size_t		len;
} migration_part;

typedef struct migration
{
	char	   *version;		/* as written: "0002", "20240101120000", "1.2", change name */
	char	   *title;
	migration_part up;
	migration_part down;		/* text NULL: no down */
	migration_part verify;		/* sqitch verify script, text NULL if none */
	bool		in_transaction; /* the tool wraps it in a transaction (psql -1) */
} migration;

typedef struct history
{
	const char *layout;			/* golang-migrate, goose, dbmate, sqitch, flyway */
	migration  *items;
	size_t		n;
	char	  **not_exercised;	/* e.g. Flyway repeatables */
	size_t		n_not_exercised;
} history;

/*
 * Read DIR.  layout NULL: detect it.  On bad input returns false with a
 * one-line message in err, and the offending file (and line, 0 if none) in
 * err_file / err_line.
 */
bool		history_load(const char *dir, const char *layout, history *h,
						 char *err, size_t errlen, char **err_file, int *err_line);
void		history_free(history *h);

/* Order of two versions, numeric component by component (2 < 10, 1.2 < 1.10). */
int			history_version_cmp(const char *a, const char *b);

/* Layout names accepted by --layout. */
extern const char *const history_layouts[];

#endif							/* DRYDOCK_HISTORY_H */
