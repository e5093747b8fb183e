/*
 * sqllex.h -- a tokenizer for SQL scripts as psql reads them.
 *
 * It knows every PostgreSQL quoting form, so that the preflight can tell
 * SQL at top level from text that only looks like SQL:
 *   -- line comments, nested block comments (a counter, no recursion),
 *   '...' ('' escape; standard_conforming_strings = on is assumed),
 *   E'...' (backslash escapes), B'..', X'..', N'..', U&'...',
 *   "quoted identifiers" ("" escape) and U&"...",
 *   $tag$ dollar quotes $tag$ (tag: [A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*;
 *   $1 is a parameter; a '$' inside an identifier such as a$$b is part of it),
 *   psql meta-commands: an unquoted backslash anywhere outside quotes starts
 *   one; it runs to end of line or to the next unquoted backslash ('\\' ends
 *   the arguments and returns to SQL; a single '\' starts another command).
 *   \copy, \!, \h, \help, \sf, \sv, \ef, \ev take the whole rest of the line.
 *   '\;' and '\:' are psql escapes for a literal ';' / ':' (returned as OP).
 *   psql variable interpolation :name, :'name', :"name", :{?name} (PSQLVAR);
 *   '::' is a cast operator.
 *
 * Tokens point into the caller's buffer: no allocation at all.  Lines are
 * counted on '\n' (so CRLF counts once).  A UTF-8 byte order mark at the very
 * start is skipped and reported in had_bom.  The buffer need not be
 * NUL-terminated and may contain any bytes.
 */
#ifndef DRYDOCK_SQLLEX_H
#define DRYDOCK_SQLLEX_H

#include <stdbool.h>
#include <stddef.h>

typedef enum sqltoken_kind
{
	SQLTOK_END = 0,				/* end of input */
	SQLTOK_ERROR,				/* unterminated construct; see .error, .line */
	SQLTOK_WORD,				/* keyword or unquoted identifier */
	SQLTOK_QIDENT,				/* "quoted identifier" or U&"..." */
	SQLTOK_STRING,				/* string literal; .prefix says which kind */
	SQLTOK_DOLLAR,				/* $tag$ ... $tag$ */
	SQLTOK_NUMBER,
	SQLTOK_PARAM,				/* $1 */
	SQLTOK_PSQLVAR,				/* :name :'name' :"name" :{?name} */
	SQLTOK_OP,					/* operator / punctuation, incl. \; and \: */
	SQLTOK_SEMICOLON,
	SQLTOK_LPAREN,
	SQLTOK_RPAREN,
	SQLTOK_META,				/* psql meta-command, backslash .. end */
	SQLTOK_LINE_COMMENT,		/* -- ... (without the newline) */
	SQLTOK_BLOCK_COMMENT,		/* slash-star ... star-slash, nested */
	SQLTOK_COPY_DATA			/* only from sqllex_copy_data() */
} sqltoken_kind;

/* sqltoken.flags */
#define SQLTOK_F_BACKTICK	0x01	/* META: an unquoted `backquote` in the
									 * arguments (psql runs it as a shell
									 * command) */
#define SQLTOK_F_SEPARATOR	0x02	/* META: ended by the \\ separator */

typedef struct sqltoken
{
	sqltoken_kind kind;
	size_t		off;			/* byte offset of the first byte */
	size_t		len;			/* length in bytes */

	/*
	 * body: STRING/QIDENT/DOLLAR: the text between the delimiters (raw, not
	 * decoded); META: the command name without the backslash (the arguments
	 * follow it up to off+len); PSQLVAR: the variable name; others: the
	 * whole token.
	 */
	size_t		body_off;
	size_t		body_len;
	unsigned	line;			/* 1-based line of the first byte */
	unsigned	end_line;		/* line of the last byte */
	char		prefix;			/* STRING: 0 'E' 'U' 'B' 'X' 'N'; QIDENT: 0 'U' */
	unsigned	flags;			/* SQLTOK_F_* */
	const char *error;			/* ERROR: static message, e.g.
								 * "unterminated quoted string" */
} sqltoken;

typedef struct sqllex
{
	const char *buf;
	size_t		len;
	size_t		pos;
	unsigned	line;
	bool		had_bom;
	bool		failed;			/* an ERROR token was returned; stays at END */
} sqllex;

void		sqllex_init(sqllex *lx, const char *buf, size_t len);

/*
 * Next token.  Returns true with a token, false at END or ERROR (tok->kind
 * says which).  After an ERROR every further call returns END.
 */
bool		sqllex_next(sqllex *lx, sqltoken *tok);

/*
 * psql reads the data of COPY ... FROM STDIN from the script itself, up to a
 * line "\." or end of input.  Call this right after the ';' of such a
 * statement: it consumes the data (returned as one COPY_DATA token, or END
 * if nothing is left) so it is not lexed as SQL.
 */
bool		sqllex_copy_data(sqllex *lx, sqltoken *tok);

/* ASCII case-insensitive comparison of a token's text with kw (given in lower case) */
bool		sqllex_word_is(const char *buf, const sqltoken *tok, const char *kw);

#endif							/* DRYDOCK_SQLLEX_H */
