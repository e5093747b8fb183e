/*
 * history.h
 *		A project's migration history as drydock replays it: an ordered list
 *		of up/down pairs read from the layouts people use (golang-migrate,
 *		goose, dbmate, sqitch, Flyway, diesel, sqlx, node-pg-migrate, one
 *		directory per migration), taken as real projects keep them: what the
 *		tool itself accepts is read, and what goes beyond it is listed as an
 *		irregularity instead of refusing the history.
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
	bool		up_noop;		/* the up is empty or holds only comments */
	bool		down_noop;		/* the down is (a placeholder: nothing to run) */
	bool		no_up;			/* only a down in SQL (up.text NULL): its up is
								 * not SQL (written in the host language) */
} migration;

/* Something the tool accepts, or real projects do, that is worth saying. */
typedef struct history_irregularity
{
	const char *kind;			/* title_mismatch, shared_version,
								 * down_without_up, noop_file */
	char	   *version;
	char	   *title;
	char	   *file;
	char	   *message;
} history_irregularity;

typedef struct history
{
	const char *layout;			/* one of history_layouts */
	const char *bookkeeping;	/* the SQL the tool's runner creates its
								 * table(s) with, NULL if none */
	const char *bookkeeping_what;	/* e.g. "table schema_migrations" */
	const char *bookkeeping_table;	/* its table, unqualified (NULL: a schema) */
	migration  *items;
	size_t		n;
	char	  **not_exercised;	/* e.g. Flyway repeatables */
	size_t		n_not_exercised;
	history_irregularity *irregular;
	size_t		n_irregular;
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
