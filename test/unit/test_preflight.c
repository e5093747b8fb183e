/*
 * test_preflight.c -- TAP unit tests for sqllex, preflight, redact, sha256.
 * Built by driver/Makefile into driver/build/test_preflight.
 * PREFLIGHT_DUMP=1 prints every result's findings to stderr.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "preflight.h"
#include "redact.h"
#include "sha256.h"
#include "sqllex.h"

static int	n_test;
static int	n_fail;
static char fixdir[PATH_MAX];

static void ok(int cond, const char *fmt,...) __attribute__((format(printf, 2, 3)));

static void
ok(int cond, const char *fmt,...)
{
	va_list		ap;

	char		desc[300];

	va_start(ap, fmt);
	vsnprintf(desc, sizeof(desc), fmt, ap);
	va_end(ap);
	for (char *c = desc; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	printf("%s %d - %s\n", cond ? "ok" : "not ok", ++n_test, desc);
	if (!cond)
		n_fail++;
	fflush(stdout);
}

static void
dump(const preflight_result *r)
{
	char		b[600];

	if (!getenv("PREFLIGHT_DUMP"))
		return;
	fprintf(stderr, "--- %s: %zu statements, %zu findings, %zu refusals\n", r->name,
			r->n_statements, r->n_findings, r->n_refusals);
	for (size_t i = 0; i < r->n_findings; i++)
	{
		preflight_format_finding(r, &r->findings[i], b, sizeof(b));
		fprintf(stderr, "  [%s %s] %s\n", preflight_severity_name(r->findings[i].kind),
				r->findings[i].code, b);
	}
	for (size_t i = 0; i < r->n_statements; i++)
		fprintf(stderr, "  stmt %u-%u %s\n", r->statements[i].first_line,
				r->statements[i].last_line, r->statements[i].tag);
}

static preflight_result R;

/* check sql with a role, target schema and allow_meta; returns rc */
static int
run_opts(const char *sql, size_t len, preflight_role role, const char *target, bool meta)
{
	preflight_options o;
	int			rc;

	preflight_result_free(&R);
	preflight_options_init(&o, role);
	o.target_schema = target;
	o.allow_meta = meta;
	rc = preflight_check_buffer("t.sql", sql, len, &o, &R);
	dump(&R);
	return rc;
}

static int
run(const char *sql)
{
	return run_opts(sql, strlen(sql), PREFLIGHT_DDL, "app", false);
}

/* the finding with this code (and kind, if kind >= 0), or NULL */
static const preflight_finding *
find(const char *code, int kind)
{
	for (size_t i = 0; i < R.n_findings; i++)
		if (strcmp(R.findings[i].code, code) == 0 && (kind < 0 || (int) R.findings[i].kind == kind))
			return &R.findings[i];
	return NULL;
}

static unsigned
code_line(const char *code)
{
	const preflight_finding *f = find(code, -1);

	return f ? f->line : 0;
}

static bool
refused_at(const char *code, unsigned line)
{
	const preflight_finding *f = find(code, PREFLIGHT_REFUSE);

	return f && f->line == line;
}

static bool
has_secret(const char *s)
{
	for (size_t i = 0; i < R.n_secrets; i++)
		if (strcmp(R.secrets[i], s) == 0)
			return true;
	return false;
}

static char *
fixture(const char *name)
{
	static char p[PATH_MAX + 64];

	snprintf(p, sizeof(p), "%s/%s", fixdir, name);
	return p;
}

static void
locate_fixtures(void)
{
	char		exe[PATH_MAX];
	ssize_t		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char	   *s;

	if (getenv("PREFLIGHT_FIXTURES"))
	{
		snprintf(fixdir, sizeof(fixdir), "%s", getenv("PREFLIGHT_FIXTURES"));
		return;
	}
	if (n <= 0)
	{
		snprintf(fixdir, sizeof(fixdir), "test/fixtures/preflight");
		return;
	}
	exe[n] = '\0';
	/* .../driver/build/test_preflight -> .../test/fixtures/preflight */
	for (int k = 0; k < 3 && (s = strrchr(exe, '/')); k++)
		*s = '\0';
	snprintf(fixdir, sizeof(fixdir), "%.*s/test/fixtures/preflight", PATH_MAX - 40, exe);
}

/* --------------------------------------------------------------- tests */

static void
test_lexer(void)
{
	const char *src = "SELECT $1, a$$b, $x$ it's \\! $x$, E'a\\'b', U&\"d\\0061t\", "
		"\"q\"\"i\", 1.5e+3, x::int, :'v' /* a /* b */ c */ -- t\n;\\echo hi \\\\ SELECT 2;";
	sqllex		lx;
	sqltoken	t;
	sqltoken_kind want[] = {SQLTOK_WORD, SQLTOK_PARAM, SQLTOK_OP, SQLTOK_WORD, SQLTOK_OP,
		SQLTOK_DOLLAR, SQLTOK_OP, SQLTOK_STRING, SQLTOK_OP, SQLTOK_QIDENT, SQLTOK_OP,
		SQLTOK_QIDENT, SQLTOK_OP, SQLTOK_NUMBER, SQLTOK_OP, SQLTOK_WORD, SQLTOK_OP,
		SQLTOK_WORD, SQLTOK_OP, SQLTOK_PSQLVAR, SQLTOK_BLOCK_COMMENT, SQLTOK_LINE_COMMENT,
		SQLTOK_SEMICOLON, SQLTOK_META, SQLTOK_WORD, SQLTOK_NUMBER, SQLTOK_SEMICOLON,
	SQLTOK_END};
	size_t		i = 0;
	bool		good = true;

	sqllex_init(&lx, src, strlen(src));
	for (;;)
	{
		bool		more = sqllex_next(&lx, &t);

		if (i >= sizeof(want) / sizeof(want[0]) || t.kind != want[i])
		{
			fprintf(stderr, "# token %zu: kind %d '%.*s'\n", i, (int) t.kind, (int) t.len,
					src + t.off);
			good = false;
			break;
		}
		if (t.kind == SQLTOK_META)
			good = good && t.body_len == 4 && memcmp(src + t.body_off, "echo", 4) == 0 &&
				(t.flags & SQLTOK_F_SEPARATOR);
		if (t.kind == SQLTOK_DOLLAR)
			good = good && memcmp(src + t.body_off, " it's \\! ", t.body_len) == 0;
		i++;
		if (!more)
			break;
	}
	ok(good && i == sizeof(want) / sizeof(want[0]), "lexer: token kinds for every quoting form");

	sqllex_init(&lx, "a\r\nb\n\r\nc", 9);
	sqllex_next(&lx, &t);
	sqllex_next(&lx, &t);
	ok(t.line == 2, "lexer: CRLF counts one line");
	sqllex_next(&lx, &t);
	ok(t.line == 4, "lexer: blank CRLF line counted");

	sqllex_init(&lx, "x\n/* a /* b */\n", 15);
	sqllex_next(&lx, &t);
	ok(!sqllex_next(&lx, &t) && t.kind == SQLTOK_ERROR && t.line == 2,
	   "lexer: unterminated nested comment is an error at its line");
	ok(!sqllex_next(&lx, &t) && t.kind == SQLTOK_END, "lexer: END after ERROR");

	sqllex_init(&lx, "\\set x `date`\n\\echo '`quoted`'", 30);
	sqllex_next(&lx, &t);
	ok(t.kind == SQLTOK_META && (t.flags & SQLTOK_F_BACKTICK), "lexer: backquote in meta args");
	sqllex_next(&lx, &t);
	ok(t.kind == SQLTOK_META && !(t.flags & SQLTOK_F_BACKTICK),
	   "lexer: backquote inside quoted meta arg is literal");

	{
		const char *m = "\\echo a \\! id\n";

		sqllex_init(&lx, m, strlen(m));
		sqllex_next(&lx, &t);
		ok(t.kind == SQLTOK_META && t.len == 8, "lexer: meta args end before a single backslash");
		sqllex_next(&lx, &t);
		ok(t.kind == SQLTOK_META && t.body_len == 1 && m[t.body_off] == '!' && t.line == 1,
		   "lexer: single backslash in meta args starts another meta-command");
	}
}

static void
test_refusals(void)
{
	struct
	{
		const char *sql;
		const char *code;
		unsigned	line;
		const char *what;
	}			cases[] = {
		{"SELECT 1;\n\\! rm -rf /\n", "meta-command", 2, "\\!"},
		{"\\connect postgres\n", "meta-command", 1, "\\connect"},
		{"\\c other\n", "meta-command", 1, "\\c"},
		{"SELECT 1 \\g /tmp/out\n", "meta-command", 1, "\\g file"},
		{"SELECT 1 \\g |cat\n", "meta-command", 1, "\\g pipe"},
		{"\\o /tmp/x\nSELECT 1;\n", "meta-command", 1, "\\o"},
		{"\\w /tmp/x\n", "meta-command", 1, "\\w"},
		{"\\copy t from program 'id'\n", "meta-command", 1, "\\copy"},
		{"\\setenv PGHOST evil\n", "meta-command", 1, "\\setenv"},
		{"\\i other.sql\n", "meta-command", 1, "\\i"},
		{"\\ir other.sql\n", "meta-command", 1, "\\ir"},
		{"\\include other.sql\n", "meta-command", 1, "\\include"},
		{"\\lo_import /etc/passwd\n", "meta-command", 1, "\\lo_import"},
		{"SELECT 1;\n\\gexec\n", "meta-command", 2, "\\gexec"},
		{"\\cd /\n", "meta-command", 1, "\\cd"},
		{"\\set x `id`\n", "meta-command", 1, "backquote in \\set"},
		{"\\restrict KEY\n", "meta-command", 1, "\\restrict outside a base dump"},
		{"\\encoding SJIS\n", "meta-command", 1, "\\encoding"},
		{"\\frobnicate\n", "meta-command", 1, "unknown meta-command"},
		{"-- c\nCOPY t TO PROGRAM 'gzip > /tmp/x';\n", "copy-program", 2, "COPY TO PROGRAM"},
		{"copy t from program 'curl evil';\n", "copy-program", 1, "copy from program (lower case)"},
		{"COPY (SELECT 1) TO '/tmp/x';\n", "server-file-access", 1, "COPY TO file"},
		{"COPY t FROM '/etc/passwd';\n", "server-file-access", 1, "COPY FROM file"},
		{"SELECT pg_read_file('/etc/passwd');\n", "server-file-access", 1, "pg_read_file"},
		{"SELECT PG_READ_BINARY_FILE ('/x');\n", "server-file-access", 1, "pg_read_binary_file upper case"},
		{"select pg_catalog.pg_ls_dir('.');\n", "server-file-access", 1, "pg_ls_dir qualified"},
		{"select pg_catalog . \"pg_ls_dir\" ('.');\n", "server-file-access", 1, "pg_catalog . \"pg_ls_dir\""},
		{"SELECT \"pg_read_file\"('/etc/passwd');\n", "server-file-access", 1, "quoted function name"},
		{"SELECT lo_import('/etc/passwd');\n", "server-file-access", 1, "lo_import"},
		{"SELECT lo_export(1, '/tmp/x');\n", "server-file-access", 1, "lo_export"},
		{"CREATE EXTENSION dblink;\n", "dblink", 1, "CREATE EXTENSION dblink"},
		{"SELECT * FROM dblink_exec('host=x', 'x');\n", "dblink", 1, "dblink_exec"},
		{"CREATE SERVER s FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'x');\n", "fdw", 1, "postgres_fdw server"},
		{"CREATE VIEW v AS SELECT pg_read_file('x');\n", "server-file-access", 1, "in a view"},
		{"CREATE FOREIGN TABLE f (a text) SERVER s OPTIONS (program 'id');\n", "copy-program", 1, "file_fdw program"},
		{"SET standard_conforming_strings = off;\n", "lexer-setting", 1, "scs off"},
		{"SET client_encoding TO 'SJIS';\n", "lexer-setting", 1, "client_encoding SJIS"},
		{"SET NAMES 'LATIN1';\n", "lexer-setting", 1, "SET NAMES"},
		{"SELECT set_config('standard_conforming_strings', 'off', false);\n", "lexer-setting", 1, "set_config scs"},
		{"ALTER SYSTEM SET archive_command = 'id';\n", "alter-system", 1, "ALTER SYSTEM"},
		{"\\set cmd 'COPY t TO PROGRAM ''id'''\n:cmd;\n", "psql-variable", 2, "interpolated \\set variable"},
		{"SELECT 1 /* x */; \\! id\n", "meta-command", 1, "meta after a comment on the same line"},
		{"SELECT 1; \\echo a \\\\ \\! id\n", "meta-command", 1, "meta after \\\\ separator"},
		{"SELECT 1; \\echo a \\! id\n", "meta-command", 1, "second meta on the same line"},
		{"CREATE TABLE t (a text DEFAULT 'x'\n\\! id\n);\n", "meta-command", 2, "meta inside an open statement"},
		{"SELECT 'abc' \\! id\n", "meta-command", 1, "meta after a string"},
		{"SELECT E'a\\\\' \\! id\n", "meta-command", 1, "meta after E'' ending in escaped backslash"},
		{"SELECT 'x\\' \\! id\n", "meta-command", 1, "standard string ends at quote after backslash"},
		{"SELECT $e'\\' \\! id ';\n", "meta-command", 1, "$e'' is not an E'' string (psql dolqfailed)"},
		{"SELECT 1e'\\' ' \\! id ';\n", "ambiguous-literal", 1, "1e'' split differently by psql versions"},
		{"SELECT $1e'x';\n", "ambiguous-literal", 1, "$1e'' split differently by psql versions"},
		{"SELECT 1;\n'unterminated\n", "unterminated", 2, "unterminated string"},
		{"SELECT $body$ x\n", "unterminated", 1, "unterminated dollar quote"},
		{"SELECT 1;\n\n/* a /* b */\n", "unterminated", 3, "unterminated nested comment"},
		{"SELECT \"abc\n", "unterminated", 1, "unterminated quoted identifier"},
		{"SELECT E'abc\\'\n", "unterminated", 1, "unterminated E string (escaped quote)"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int			rc = run(cases[i].sql);

		ok(rc == PREFLIGHT_REFUSED && refused_at(cases[i].code, cases[i].line),
		   "refused %s: %s at line %u", cases[i].what, cases[i].code, cases[i].line);
	}

	run("SELECT 1;\n\\! rm -rf /\n");
	ok(strcmp(R.error, "t.sql:2: psql meta-command \\! runs a shell command; refused "
			  "(use --allow-meta to permit)") == 0, "refusal message is FILE:LINE: message");
	run("COPY t TO PROGRAM 'x';");
	ok(strcmp(R.findings[0].message, "COPY ... TO PROGRAM runs a program on the server; refused") == 0,
	   "COPY PROGRAM message");

	ok(run_opts("\\! id\nSELECT 1;\n", 16, PREFLIGHT_DDL, NULL, true) == PREFLIGHT_OK &&
	   find("meta-command", PREFLIGHT_NOTE) != NULL, "allow_meta: meta-command only noted");
}

static void
test_not_refused(void)
{
	struct
	{
		const char *sql;
		const char *what;
	}			cases[] = {
		{"CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
		"  EXECUTE 'COPY t TO PROGRAM ''id''';\nEND;\n$$;\n", "COPY PROGRAM inside $$ body"},
		{"CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $fn$ SELECT '\\! id' $fn$;\n",
		"meta-command inside $tag$ body"},
		{"DO $d$ BEGIN RAISE NOTICE '$$ \\connect x $$'; END $d$;\n", "$$ inside $tag$ body"},
		{"-- \\! id\nSELECT 1; -- COPY t TO PROGRAM 'x'\n", "in line comments"},
		{"/* \\! id\n pg_read_file('x') /* nested */ \\o /tmp */ SELECT 1;\n", "in nested block comment"},
		{"SELECT '\\! id', '\\connect x';\n", "meta-lookalike in strings"},
		{"SELECT 'COPY t TO PROGRAM ''id''';\n", "COPY PROGRAM in a string with '' escape"},
		{"SELECT E'it\\'s \\\\! pg_read_file(x)';\n", "E'' string with \\' escape"},
		{"SELECT e'\\' \\! id';\n", "lower-case e'' string"},
		{"CREATE TABLE \"pg_read_file\" (\"\\! id\" int);\n", "quoted identifiers"},
		{"SELECT U&'\\0041 \\! x';\n", "U&'' string"},
		{"SELECT 1 \\; SELECT 2;\n", "\\; psql separator"},
		{"\\set ON_ERROR_STOP on\n\\echo hello\n\\if true\n\\else\n\\endif\nSELECT 1;\n", "whitelisted meta-commands"},
		{"\\timing on\n\\pset format unaligned\n\\x\n\\qecho x\n\\warn w\n\\unset a\nSELECT 1;\n", "more whitelisted meta-commands"},
		{"SELECT 1 \\g\n", "bare \\g"},
		{"SELECT 1;\nSELECT x::text, a[1:2] FROM t;\n", "casts and slices"},
		{"GRANT EXECUTE ON FUNCTION pg_read_file(text) TO admin;\n", "GRANT on pg_read_file (mention only)"},
		{"REVOKE ALL ON FUNCTION pg_catalog.pg_ls_dir(text) FROM PUBLIC;\n", "REVOKE on pg_ls_dir"},
		{"DROP EXTENSION IF EXISTS dblink;\n", "DROP EXTENSION dblink"},
		{"COPY t FROM STDIN;\n1\tx\n\\! not a meta, data\n\\.\nSELECT 1;\n", "COPY FROM STDIN data"},
		{"COPY t TO STDOUT;\n", "COPY TO STDOUT"},
		{"SET client_encoding = 'UTF8';\nSET standard_conforming_strings = on;\n", "pg_dump SET lines"},
		{"SELECT pg_catalog.set_config('search_path', '', false);\n", "set_config search_path"},
		{"CREATE TABLE t (a int REFERENCES p ON DELETE CASCADE ON UPDATE CASCADE);\n", "ON DELETE CASCADE"},
		{"CREATE TABLE t (a text DEFAULT 'program');\nCOMMENT ON TABLE t IS 'uses COPY ... TO PROGRAM';\n", "words in strings"},
		{"SELECT $1, $12;\n", "parameters are not dollar quotes"},
		{"SELECT 1e5, 1.5e-3, .5, 0x1F, 1_000, 1 e'x', 1::text, x$y, 1..2;\n", "numbers"},
		{"CREATE FUNCTION app.pg_read_file(text) RETURNS text LANGUAGE sql AS 'SELECT 1';\n"
		"SELECT app.pg_read_file('x');\n", "a function of another schema with the same name"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int			rc = run(cases[i].sql);

		ok(rc == PREFLIGHT_OK && R.n_refusals == 0, "not refused: %s", cases[i].what);
	}
	run("CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$\nBEGIN\n"
		"  PERFORM pg_read_file('/etc/passwd');\nEND $$;\n");
	ok(R.n_refusals == 0 && find("unchecked-body", PREFLIGHT_NOTE) &&
	   code_line("unchecked-body") == 3, "dollar body mentioning pg_read_file: note at its line");
	run("CREATE TABLE t (a int REFERENCES p ON DELETE CASCADE);\n");
	ok(find("cascade", -1) == NULL, "ON DELETE CASCADE is not a DROP CASCADE");
	run("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES p ON DELETE CASCADE;\n");
	ok(find("cascade", -1) == NULL, "ON DELETE CASCADE at top level of ALTER TABLE is no cascade note");
	run("COPY t FROM STDIN;\n1\n\\.\nSELECT 1;\n");
	ok(R.n_statements == 2 && R.statements[1].first_line == 4 && find("copy-data", -1),
	   "COPY data skipped, next statement on its line");
}

static void
test_file_checks(void)
{
	preflight_options o;
	int			rc;

	preflight_options_init(&o, PREFLIGHT_DDL);
	preflight_result_free(&R);
	rc = preflight_check(fixture("empty.sql"), &o, &R);
	ok(rc == PREFLIGHT_REFUSED && find("file-empty", PREFLIGHT_REFUSE), "empty file refused");

	preflight_result_free(&R);
	rc = preflight_check(fixture("comments_only.sql"), &o, &R);
	ok(rc == PREFLIGHT_REFUSED && find("no-statements", PREFLIGHT_REFUSE) &&
	   strstr(R.error, "contains no SQL statements"), "comments-only file: contains no SQL statements");

	ok(run("   \n\t\r\n") == PREFLIGHT_REFUSED && find("no-statements", -1), "whitespace-only refused");

	preflight_result_free(&R);
	rc = preflight_check(fixture("nul.sql"), &o, &R);
	ok(rc == PREFLIGHT_REFUSED && refused_at("binary-file", 2), "NUL byte refused with its line");

	preflight_result_free(&R);
	rc = preflight_check(fixture("bad_utf8.sql"), &o, &R);
	ok(rc == PREFLIGHT_REFUSED && refused_at("invalid-utf8", 3) &&
	   strstr(R.findings[0].message, "byte column 33"), "invalid UTF-8 mid-file: line 3, column 33");

	{
		const char *bad[] = {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xf8\x88\x80\x80\x80", "\xe2\x82", "\x80"};
		const char *names[] = {"overlong 2-byte", "overlong 3-byte", "surrogate",
		"above U+10FFFF", "5-byte", "truncated", "lone continuation"};
		char		big[100];

		for (size_t i = 0; i < 7; i++)
		{
			snprintf(big, sizeof(big), "SELECT '%s';", bad[i]);
			ok(run(big) == PREFLIGHT_REFUSED && refused_at("invalid-utf8", 1),
			   "invalid UTF-8 refused: %s", names[i]);
		}
		ok(run("SELECT 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98';") == PREFLIGHT_OK,
		   "valid multibyte UTF-8 accepted");
	}

	preflight_result_free(&R);
	rc = preflight_check(fixture("bom_crlf.sql"), &o, &R);
	ok(R.has_bom && R.has_crlf && find("utf8-bom", PREFLIGHT_NOTE), "BOM noted, CRLF detected");
	ok(R.n_statements == 2 && R.statements[1].first_line == 2 && R.statements[1].last_line == 4 &&
	   strcmp(R.statements[0].tag, "CREATE TABLE") == 0, "CRLF: statement lines");
	ok(rc == PREFLIGHT_REFUSED && refused_at("meta-command", 5), "CRLF: \\! refused at line 5");

	preflight_result_free(&R);
	rc = preflight_check(fixture("does-not-exist.sql"), &o, &R);
	ok(rc == PREFLIGHT_REFUSED && find("file-missing", -1) &&
	   strstr(R.error, "does-not-exist.sql: no such file"), "missing file refused");

	preflight_result_free(&R);
	rc = preflight_check(fixdir, &o, &R);
	ok(rc == PREFLIGHT_REFUSED && find("file-type", -1) && strstr(R.error, "is a directory"),
	   "directory refused");

	{
		char		fifo[] = "/tmp/test_preflight_fifoXXXXXX";
		int			fd = mkstemp(fifo);

		if (fd >= 0)
		{
			close(fd);
			unlink(fifo);
		}
		if (fd >= 0 && mkfifo(fifo, 0600) == 0)
		{
			preflight_result_free(&R);
			rc = preflight_check(fifo, &o, &R);
			ok(rc == PREFLIGHT_REFUSED && find("file-type", -1) && strstr(R.error, "FIFO"),
			   "FIFO refused without blocking");
			unlink(fifo);
		}
		else
			ok(1, "# SKIP cannot create a FIFO");
	}

	o.max_bytes = 100;
	preflight_result_free(&R);
	rc = preflight_check(fixture("pg_dump_base.sql"), &o, &R);
	ok(rc == PREFLIGHT_REFUSED && find("file-too-large", -1) &&
	   strstr(R.error, "over the 100 bytes limit"), "over max_bytes refused by size (fstat)");
	{
		preflight_options o2;

		preflight_options_init(&o2, PREFLIGHT_DDL);
		o2.max_bytes = 10;
		preflight_result_free(&R);
		rc = preflight_check_buffer("b", "SELECT 1; SELECT 2;", 19, &o2, &R);
		ok(rc == PREFLIGHT_REFUSED && find("file-too-large", -1), "buffer over max_bytes refused");
	}
	ok(PREFLIGHT_DEFAULT_MAX_BYTES == 64u * 1024 * 1024, "default limit is 64 MiB");

	/* keep_data + sha256 agree with sha256_file_hex */
	{
		char		h[65],
					err[200];

		preflight_options_init(&o, PREFLIGHT_DDL);
		o.keep_data = true;
		preflight_result_free(&R);
		rc = preflight_check(fixture("migrate_up.sql"), &o, &R);
		ok(rc == PREFLIGHT_OK && sha256_file_hex(fixture("migrate_up.sql"), h, err, sizeof(err)) == 0 &&
		   strcmp(h, R.sha256) == 0 && R.data && R.data_len == R.size,
		   "sha256 of the file matches sha256_file_hex; keep_data keeps the bytes");
		sha256_hex("abc", 3, h);
		ok(strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
		   "sha256(\"abc\") test vector");
		ok(sha256_file_hex("/nonexistent/x", h, err, sizeof(err)) == -1 &&
		   strstr(err, "No such file"), "sha256_file_hex error message");
	}
}

static void
test_facts(void)
{
	preflight_options o;
	int			rc;

	preflight_options_init(&o, PREFLIGHT_BASE);
	o.target_schema = "app";
	preflight_result_free(&R);
	rc = preflight_check(fixture("pg_dump_base.sql"), &o, &R);
	dump(&R);
	ok(rc == PREFLIGHT_OK && R.n_refusals == 0, "pg_dump base with \\restrict accepted as BASE");
	ok(R.creates_target_schema && R.target_schema_line == 26 && !find("create-target-schema", -1),
	   "BASE: creates target schema recorded, not flagged");
	{
		bool		atomic = false;

		for (size_t i = 0; i < R.n_statements; i++)
			if (strcmp(R.statements[i].tag, "CREATE FUNCTION") == 0 &&
				R.statements[i].first_line == 71 && R.statements[i].last_line == 75)
				atomic = true;
		ok(atomic, "BEGIN ATOMIC function body is one statement (lines 71-75)");
	}
	ok(R.n_statements == 28, "pg_dump base: 28 statements (got %zu)", R.n_statements);

	o.role = PREFLIGHT_DDL;
	preflight_result_free(&R);
	rc = preflight_check(fixture("pg_dump_base.sql"), &o, &R);
	ok(rc == PREFLIGHT_REFUSED && refused_at("meta-command", 5) &&
	   strstr(R.error, "\\restrict is only expected in a pg_dump base schema"),
	   "\\restrict refused for DDL");

	preflight_options_init(&o, PREFLIGHT_DDL);
	o.target_schema = "app";
	preflight_result_free(&R);
	rc = preflight_check(fixture("migrate_up.sql"), &o, &R);
	dump(&R);
	ok(rc == PREFLIGHT_OK, "golang-migrate up file accepted");
	ok(R.has_transaction_control && R.transaction_control_line == 3 && find("transaction-control", -1),
	   "BEGIN..COMMIT detected at line 3");
	ok(R.n_extensions == 1 && strcmp(R.extensions[0].name, "uuid-ossp") == 0 &&
	   R.extensions[0].line == 5, "CREATE EXTENSION name (quoted) and line");
	ok(R.n_directives == 1 && R.directives[0].line == 2 &&
	   strcmp(R.directives[0].text, "drydock:ignore NH001 -- legacy name kept on purpose") == 0,
	   "drydock: directive comment exposed");
	{
		const char *tags[] = {"BEGIN", "CREATE EXTENSION", "CREATE TYPE", "CREATE TABLE",
		"CREATE TABLE", "CREATE FUNCTION", "CREATE TRIGGER", "ALTER TABLE", "COMMIT"};
		const unsigned first[] = {3, 5, 7, 9, 16, 19, 31, 34, 37};
		bool		good = R.n_statements == 9;

		for (size_t i = 0; good && i < 9; i++)
			good = strcmp(R.statements[i].tag, tags[i]) == 0 && R.statements[i].first_line == first[i];
		ok(good, "statement tags and first lines");
		ok(R.statements[5].last_line == 29, "dollar-quoted function ends at line 29");
		ok(preflight_statement_at_line(R.statements, R.n_statements, 12) == 3 &&
		   preflight_statement_at_line(R.statements, R.n_statements, 1) == -1 &&
		   preflight_statement_at_line(R.statements, R.n_statements, 99) == 8,
		   "statement_at_line maps psql lines");
	}
	{
		/* two statements on one line, then one over three lines: psql tags a message with
		 * the line it had read up to; the first statement covering it wins */
		preflight_result T;
		preflight_options to;
		const char *src = "CREATE TABLE a (i int); CREATE TABLE b (i int);\nCREATE TABLE c (\n i int\n);\n";

		memset(&T, 0, sizeof(T));
		preflight_options_init(&to, PREFLIGHT_DDL);
		preflight_check_buffer("t.sql", src, strlen(src), &to, &T);
		ok(T.n_statements == 3 &&
		   preflight_statement_at_line(T.statements, T.n_statements, 1) == 0 &&
		   preflight_statement_at_line(T.statements, T.n_statements, 3) == 2 &&
		   preflight_statement_at_line(T.statements, T.n_statements, 4) == 2 &&
		   preflight_statement_at_line(T.statements, T.n_statements, 9) == 2,
		   "statement_at_line: first covering statement, else the last begun");
		preflight_result_free(&T);
	}
	ok(find("cascade", -1) == NULL, "no cascade note for ON DELETE CASCADE");

	preflight_result_free(&R);
	rc = preflight_check(fixture("migrate_down.sql"), &o, &R);
	ok(rc == PREFLIGHT_OK && find("cascade", PREFLIGHT_NOTE) && code_line("cascade") == 5,
	   "DROP ... CASCADE noted at line 5");

	/* CREATE SCHEMA of the target */
	struct
	{
		const char *sql;
		const char *target;
		bool		hit;
	}			cs[] = {
		{"CREATE SCHEMA app;", "app", true},
		{"create schema APP;", "app", true},
		{"CREATE SCHEMA IF NOT EXISTS app;", "app", true},
		{"CREATE SCHEMA \"app\";", "app", true},
		{"CREATE SCHEMA \"App\";", "app", false},
		{"CREATE SCHEMA \"App\";", "App", true},
		{"CREATE SCHEMA App;", "App", false},
		{"CREATE SCHEMA AUTHORIZATION app;", "app", true},
		{"CREATE SCHEMA other;", "app", false},
		{"CREATE SCHEMA \"a\"\"b\";", "a\"b", true},
		{"-- CREATE SCHEMA app;\nSELECT 'CREATE SCHEMA app';", "app", false},
	};

	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
	{
		run_opts(cs[i].sql, strlen(cs[i].sql), PREFLIGHT_DDL, cs[i].target, false);
		ok(R.creates_target_schema == cs[i].hit &&
		   (find("create-target-schema", PREFLIGHT_NOTE) != NULL) == cs[i].hit,
		   "create target schema %s: %s", cs[i].target, cs[i].sql);
	}

	run("CREATE INDEX CONCURRENTLY i ON t (a);\nALTER TYPE e ADD VALUE 'x';\nVACUUM t;\n"
		"CREATE DATABASE d;\n");
	{
		size_t		n = 0;

		for (size_t i = 0; i < R.n_findings; i++)
			n += strcmp(R.findings[i].code, "no-transaction-block") == 0;
		ok(n == 4 && R.n_refusals == 0, "no-transaction-block noted 4 times");
	}
	run("CREATE UNIQUE INDEX i ON t (a);\nCREATE OR REPLACE VIEW v AS SELECT 1;\n"
		"CREATE MATERIALIZED VIEW m AS SELECT 1;\nCREATE EVENT TRIGGER e ON ddl_command_end "
		"EXECUTE FUNCTION f();\nALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r;\n"
		"CREATE TEMP TABLE x();\nCREATE FOREIGN DATA WRAPPER w;\nSTART TRANSACTION;\n"
		"(SELECT 1);\ncreate text search configuration c (copy = simple);\n");
	{
		const char *tags[] = {"CREATE INDEX", "CREATE VIEW", "CREATE MATERIALIZED VIEW",
			"CREATE EVENT TRIGGER", "ALTER DEFAULT PRIVILEGES", "CREATE TABLE",
		"CREATE FOREIGN DATA WRAPPER", "START TRANSACTION", "(", "CREATE TEXT SEARCH CONFIGURATION"};
		bool		good = R.n_statements == 10;

		for (size_t i = 0; good && i < 10; i++)
			if (strcmp(R.statements[i].tag, tags[i]) != 0)
			{
				fprintf(stderr, "# tag %zu: %s\n", i, R.statements[i].tag);
				good = false;
			}
		ok(good, "normalized statement tags");
	}
	run("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b VALUES (2));\n"
		"SELECT 1;\n");
	ok(R.n_statements == 2, "';' inside parentheses does not end a statement (psql)");
	run("CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC\n  INSERT INTO t VALUES (1);\n"
		"  SELECT CASE WHEN true THEN 1 END;\nEND;\nSELECT 2;\n");
	ok(R.n_statements == 2 && R.statements[0].last_line == 4, "BEGIN ATOMIC with CASE ... END");
	run("CREATE TABLE a (x int\n;\nSELECT 1;\n");
	ok(R.n_statements == 1 && find("unbalanced-parens", PREFLIGHT_NOTE), "unbalanced '(' noted");
}

static void
test_secrets(void)
{
	preflight_options o;
	int			rc;
	char	   *red;
	const char *out = "psql:ddl.sql:1: statement: CREATE ROLE app_rw LOGIN PASSWORD 's3cr3t-Pa55';\n"
		"LOG: ALTER ROLE app_ro WITH ENCRYPTED PASSWORD E'it\\'s-s3cret' / it's-s3cret / 'it''s-s3cret'\n"
		"mapp1ng-pw";

	preflight_options_init(&o, PREFLIGHT_DDL);
	preflight_result_free(&R);
	rc = preflight_check(fixture("role_password.sql"), &o, &R);
	dump(&R);
	ok(rc == PREFLIGHT_OK && R.n_refusals == 0, "password literals are not refusals");
	ok(has_secret("s3cr3t-Pa55") && has_secret("it\\'s-s3cret") && has_secret("it's-s3cret") &&
	   has_secret("mapp1ng-pw"), "secrets recorded raw and decoded (%zu)", R.n_secrets);
	{
		size_t		n = 0;
		bool		leak = false;

		for (size_t i = 0; i < R.n_findings; i++)
		{
			n += R.findings[i].kind == PREFLIGHT_SECRET;
			leak = leak || strstr(R.findings[i].message, "s3cr") || strstr(R.findings[i].message, "mapp1ng");
		}
		ok(n == 3 && !leak, "three secret findings, none showing the secret");
	}
	red = redact_secrets(out, strlen(out), R.secrets, R.n_secrets);
	ok(red && !strstr(red, "s3cr3t") && !strstr(red, "mapp1ng") && strstr(red, "PASSWORD '[REDACTED]'") &&
	   strstr(red, "E'[REDACTED]'"), "redact_secrets removes every form");
	if (getenv("PREFLIGHT_DUMP"))
		fprintf(stderr, "%s\n", red);
	free(red);
	{
		char	   *sec[] = {"ab", "abcd", NULL, ""};
		size_t		n;

		red = redact_secrets_len("xabcdyab\0ab", 11, sec, 4, &n);
		ok(red && n == 33 && memcmp(red, "x[REDACTED]y[REDACTED]\0[REDACTED]", 33) == 0,
		   "redact: longest match, NUL bytes kept, NULL/empty ignored");
		free(red);
		red = redact_secrets("", 0, sec, 2);
		ok(red && red[0] == '\0', "redact: empty text");
		free(red);
	}
	run("CREATE ROLE r PASSWORD NULL;\nCREATE SUBSCRIPTION s CONNECTION 'host=h password=c0nn-pw dbname=d' "
		"PUBLICATION p;\n");
	ok(has_secret("c0nn-pw") && find("password-literal", PREFLIGHT_SECRET), "password in a conninfo string");
	run("SELECT 'PASSWORD ''x''';\n");
	ok(R.n_secrets == 0, "PASSWORD inside a string is not a secret");
}

static void
test_scale(void)
{
	size_t		n = 50000;
	size_t		cap = n * 200 + 1;
	char	   *b = malloc(cap);
	size_t		len = 0;
	clock_t		t0;
	double		secs;
	int			rc;

	if (!b)
	{
		ok(0, "malloc");
		return;
	}
	for (size_t i = 0; i < n; i++)
		len += (size_t) snprintf(b + len, cap - len,
								 "CREATE TABLE app.t%zu (id bigint PRIMARY KEY, note text DEFAULT 'x;y', "
								 "data jsonb NOT NULL DEFAULT '{}'::jsonb); -- %zu padding padding\n",
								 i, i);
	t0 = clock();
	rc = run_opts(b, len, PREFLIGHT_DDL, "app", false);
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	ok(rc == PREFLIGHT_OK && R.n_statements == n && R.statements[n - 1].first_line == n,
	   "50,000 statements (%zu bytes) lexed in %.3f s", len, secs);
	if (getenv("PREFLIGHT_NO_TIMING"))
		ok(1, "# SKIP timing (PREFLIGHT_NO_TIMING set, e.g. under valgrind)");
	else
		ok(secs < 1.0, "50,000 statements well under a second");

	/* a 1 MB single statement */
	len = 0;
	len += (size_t) snprintf(b, cap, "INSERT INTO t VALUES ");
	while (len < 1024 * 1024)
		len += (size_t) snprintf(b + len, cap - len, "(1, 'a''b', E'c\\'d', $q$e$q$),\n");
	len += (size_t) snprintf(b + len, cap - len, "(0);\n");
	t0 = clock();
	rc = run_opts(b, len, PREFLIGHT_DDL, "app", false);
	secs = (double) (clock() - t0) / CLOCKS_PER_SEC;
	ok(rc == PREFLIGHT_OK && R.n_statements == 1, "1 MB single statement (%.3f s)", secs);

	/* deep nesting: parentheses and block comments */
	len = 0;
	for (size_t i = 0; i < 100000; i++)
		b[len++] = '(';
	memcpy(b + len, "SELECT 1", 8);
	len += 8;
	for (size_t i = 0; i < 100000; i++)
		b[len++] = ')';
	b[len++] = ';';
	for (size_t i = 0; i < 100000; i++)
		memcpy(b + len, "/* ", 3), len += 3;
	for (size_t i = 0; i < 100000; i++)
		memcpy(b + len, "*/ ", 3), len += 3;
	rc = run_opts(b, len, PREFLIGHT_DDL, "app", false);
	ok(rc == PREFLIGHT_OK && R.n_statements == 1, "100,000-deep parentheses and comments");

	/* many findings are capped */
	len = 0;
	for (size_t i = 0; i < 3000; i++)
		len += (size_t) snprintf(b + len, cap - len, "\\! id\n");
	len += (size_t) snprintf(b + len, cap - len, "SELECT 1;\n");
	rc = run_opts(b, len, PREFLIGHT_DDL, "app", false);
	ok(rc == PREFLIGHT_REFUSED && R.n_findings == PREFLIGHT_MAX_FINDINGS &&
	   R.n_refusals == 3000 && R.n_findings_dropped == 2000, "findings capped, refusals counted");
	free(b);
}

static void
test_regressions(void)
{
	/* inputs the fuzzer or review found; each must not crash */
	const char *cases[][2] = {
		{"\\", "lone backslash at EOF"},
		{"$", "lone dollar"},
		{":'", "colon quote at EOF"},
		{":{?", "colon brace at EOF"},
		{"E", "E at EOF"},
		{"U&", "U& at EOF"},
		{"1e+", "exponent at EOF"},
		{"COPY t FROM STDIN;", "COPY FROM STDIN at EOF"},
		{"COPY t FROM STDIN;\n", "COPY FROM STDIN, no data"},
		{"\xef\xbb\xbf", "BOM only"},
		{"-", "minus at EOF"},
		{"/", "slash at EOF"},
		{"/*", "open comment at EOF"},
		{"\\set", "\\set without args"},
		{"\\set x 'a\\", "meta arg ending in backslash"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		int			rc = run(cases[i][0]);

		ok(rc == PREFLIGHT_OK || rc == PREFLIGHT_REFUSED, "regression: %s", cases[i][1]);
	}
}

int
main(void)
{
	locate_fixtures();
	test_lexer();
	test_refusals();
	test_not_refused();
	test_file_checks();
	test_facts();
	test_secrets();
	test_scale();
	test_regressions();
	preflight_result_free(&R);
	printf("1..%d\n", n_test);
	return n_fail ? 1 : 0;
}
