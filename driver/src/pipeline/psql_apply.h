/*
 * psql_apply.h
 *		Applying an SQL artifact to the sandbox with psql, exactly as an
 *		operator would (psql -X -v ON_ERROR_STOP=1 -f FILE), but with a
 *		connection nothing of the caller's can redirect, psql's restricted
 *		mode on, a timeout, and the output parsed into facts.
 */
#ifndef DRYDOCK_PSQL_APPLY_H
#define DRYDOCK_PSQL_APPLY_H

#include <stdbool.h>

#include <jansson.h>

#include "preflight.h"
#include "sandbox.h"

typedef struct psql_apply_spec
{
	sandbox    *sb;
	const char *dbname;
	const char *role;			/* connect as this role */
	const char *file;			/* the sandbox's copy of the artifact */
	const char *display_name;	/* the user's path, for messages */
	bool		single_transaction; /* psql -1 */
	bool		restrict_meta;	/* \restrict KEY before the file */
	int			timeout_ms;
	char *const *secrets;		/* redacted from everything recorded */
	size_t		n_secrets;

	/*
	 * The artifact's statements as preflight split them (optional).  psql
	 * tags a message with the line it had read up to when it sent the
	 * statement (the line of its ';'); with these, every message is placed
	 * at the first line of its statement instead, and an error's "LINE n:"
	 * context is turned into a file line.
	 */
	const preflight_statement *statements;
	size_t		n_statements;
	const char *data;			/* the artifact's bytes (for "LINE n:") */
	size_t		data_len;
} psql_apply_spec;

typedef struct psql_apply_result
{
	int			exit_code;		/* psql's */
	bool		ok;				/* exit 0, no timeout, not interrupted */
	bool		timed_out;
	bool		interrupted;
	double		ms;
	int			error_line;		/* first line of the statement of the first ERROR
								 * in the file (psql's line without statements),
								 * 0 if none */
	int			error_statement;	/* its 1-based number, 0 if unknown */
	int			error_last_line;	/* the line psql named (the statement's end) */
	int			error_at_line;	/* the file line of the server's error position,
								 * 0 if none was given */
	char	   *error_message;	/* the first ERROR (redacted), or NULL */
	int			n_notices;		/* NOTICE and WARNING messages */
	int			n_messages_omitted; /* server messages counted, not kept */
	json_t	   *json;			/* everything above plus tags and messages */
} psql_apply_result;

/* Does this psql know \restrict (the 2025 minor releases and later)? */
bool		psql_has_restrict(const char *psql);

bool		psql_apply(const psql_apply_spec *spec, psql_apply_result *res, char *err, size_t errlen);
void		psql_apply_result_free(psql_apply_result *res);

#endif							/* DRYDOCK_PSQL_APPLY_H */
