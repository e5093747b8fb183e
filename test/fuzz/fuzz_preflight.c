/*
 * fuzz_preflight.c -- libFuzzer target: sqllex over the raw input, then the
 * whole preflight (file checks, lexing, statement facts) on the same buffer
 * under each role, and redaction of the input with the secrets found.
 * Build: make -C test/fuzz fuzz   (clang -fsanitize=fuzzer,address,undefined)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preflight.h"
#include "redact.h"
#include "sqllex.h"

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *) data;
	sqllex		lx;
	sqltoken	t;
	preflight_options o;
	preflight_result r;
	size_t		last = 0;

	/* the lexer alone: tokens in order, inside the buffer, lines monotonic */
	sqllex_init(&lx, buf, size);
	while (sqllex_next(&lx, &t))
	{
		if (t.off < last || t.off + t.len > size || t.body_off < t.off ||
			t.body_off + t.body_len > t.off + t.len || t.end_line < t.line || t.len == 0)
			abort();
		last = t.off + t.len;
		if (t.kind == SQLTOK_SEMICOLON && (size & 1))
			(void) sqllex_copy_data(&lx, &t);
	}

	for (int role = PREFLIGHT_DDL; role <= PREFLIGHT_BASE; role++)
	{
		int			rc;

		preflight_options_init(&o, (preflight_role) role);
		o.target_schema = role == PREFLIGHT_ROLLBACK ? NULL : "app";
		o.allow_meta = role == PREFLIGHT_ROLLBACK;
		rc = preflight_check_buffer("fuzz.sql", buf, size, &o, &r);
		if (rc != PREFLIGHT_OK && rc != PREFLIGHT_REFUSED)
			abort();
		if ((rc == PREFLIGHT_REFUSED) != (r.n_refusals > 0) || (rc == PREFLIGHT_REFUSED && !r.error[0]))
			abort();
		for (size_t i = 0; i < r.n_findings; i++)
			if (strchr(r.findings[i].message, '\n'))
				abort();
		for (size_t i = 1; i < r.n_statements; i++)
			if (r.statements[i].first_line < r.statements[i - 1].first_line ||
				r.statements[i].last_line < r.statements[i].first_line)
				abort();
		if (role == PREFLIGHT_DDL && r.n_secrets)
		{
			char	   *red = redact_secrets(buf, size, r.secrets, r.n_secrets);

			if (!red)
				abort();
			for (size_t i = 0; i < r.n_secrets; i++)
				/* a secret made of marker characters can reappear next to a
				 * marker; every other secret must be gone */
				if (!strpbrk(r.secrets[i], "[]REDACT") && strstr(red, r.secrets[i]) &&
					!memchr(buf, '\0', size))
					abort();
			free(red);
		}
		preflight_result_free(&r);
	}
	return 0;
}
