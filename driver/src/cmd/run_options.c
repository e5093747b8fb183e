/*
 * run_options.c
 *		Parsing of the options drydock run and drydock replay share.
 */
#include "run_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "config.h"
#include "render.h"
#include "util.h"

void
run_options_defaults(run_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->rounds = 1;
	opt->timeout_s = 600;
}

bool
parse_int_in(const char *s, int lo, int hi, int *out)
{
	char	   *end;
	long		v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		return false;
	*out = (int) v;
	return true;
}

static bool
is_sysid(const char *s)
{
	return *s && strlen(s) <= 20 && strspn(s, "0123456789") == strlen(s);
}

/*
 * --format LIST: comma-separated names, each written into --out; the first
 * one named (over every --format given) is also printed on stdout.
 */
static bool
parse_formats(const char *arg, run_options *opt)
{
	char	   *copy = xstrdup(arg);
	char	   *save = NULL;
	bool		ok = true;
	int			n = 0;

	for (char *name = strtok_r(copy, ",", &save); name && ok; name = strtok_r(NULL, ",", &save))
	{
		unsigned	f = report_format_by_name(name);

		if (f == 0)
		{
			dd_error("--format: unknown format \"%s\" (text, tap, sarif, junit, github, gitlab)", name);
			ok = false;
			break;
		}
		if (!opt->stdout_format)
			opt->stdout_format = f;
		if (f != FORMAT_TEXT)
			opt->formats |= f;
		n++;
	}
	if (ok && n == 0)
	{
		dd_error("--format needs a list of formats: \"%s\"", arg);
		ok = false;
	}
	free(copy);
	return ok;
}

int
run_common_option(int c, const char *arg, run_options *opt)
{
	switch (c)
	{
		case 's':
			if (arg[0] == '\0' || strlen(arg) > 63)
			{
				dd_error("--schema must be 1 to 63 bytes");
				return -1;
			}
			opt->schema = arg;
			return 1;
		case OPT_SCAFFOLD:
			opt->scaffold_schema = true;
			return 1;
		case 'b':
			opt->base_path = arg;
			return 1;
		case 'p':
			opt->policy_path = arg;
			return 1;
		case OPT_PROD_SYSID:
			if (!is_sysid(arg))
			{
				dd_error("--prod-sysid must be a system identifier (digits, as pg_controldata prints it): \"%s\"", arg);
				return -1;
			}
			opt->prod_sysids = xrealloc(opt->prod_sysids, (opt->n_prod_sysids + 1) * sizeof(char *));
			opt->prod_sysids[opt->n_prod_sysids++] = (char *) arg;
			return 1;
		case OPT_PROD_VERSION:
			if (!parse_int_in(arg, 9, 99, &opt->prod_version))
			{
				dd_error("--prod-version must be a major version such as 15: \"%s\"", arg);
				return -1;
			}
			return 1;
		case OPT_TIMEOUT:
			if (!parse_int_in(arg, 1, 86400, &opt->timeout_s))
			{
				dd_error("--timeout must be 1 to 86400 seconds: \"%s\"", arg);
				return -1;
			}
			return 1;
		case OPT_ALLOW_META:
			opt->allow_meta = true;
			return 1;
		case OPT_RUN_AS:
			opt->run_as = arg;
			return 1;
		case OPT_PG_CONFIG:
			opt->pg_config = arg;
			return 1;
		case OPT_PG:
			if (!parse_int_in(arg, 13, 99, &opt->pg_major))
			{
				dd_error("--pg must be a PostgreSQL major version, 13 or later: \"%s\"", arg);
				return -1;
			}
			return 1;
		case OPT_FRESH:
			opt->fresh = true;
			return 1;
		case OPT_APPLY_ROLE:
			opt->apply_role = arg;
			return 1;
		case OPT_APPLY_SUPER:
			opt->apply_as_superuser = true;
			return 1;
		case OPT_ALLOW_WEAK:
			opt->allow_weak_containment = true;
			return 1;
		case 'o':
			opt->out_dir = arg;
			return 1;
		case OPT_FORMAT:
			return parse_formats(arg, opt) ? 1 : -1;
		case OPT_FAIL_ON:
			if (strcmp(arg, "warn") == 0)
				opt->fail_on_warn = true;
			else if (strcmp(arg, "error") == 0)
				opt->fail_on_warn = false;
			else
			{
				dd_error("--fail-on must be error or warn: \"%s\"", arg);
				return -1;
			}
			return 1;
		case 'q':
			opt->quiet = true;
			return 1;
		case OPT_SYNTH_ROWS:
			if (!parse_int_in(arg, 1, 100000000, &opt->synthetic_rows))
			{
				dd_error("--synthetic-rows must be an integer from 1 to 100000000: \"%s\"", arg);
				return -1;
			}
			return 1;
		case OPT_PROD_STATS:
			opt->prod_stats_path = arg;
			return 1;
		case OPT_CONFIG:
		case OPT_NO_CONFIG:
			return 1;			/* run_options_config() read them */
	}
	return 0;
}

int
run_options_config(int *argc, char ***argv, const struct option *longopts, const char *shortopts,
				   const char *const *other_keys, run_options *opt)
{
	/* static: the options point into its strings until the process exits */
	static run_config cfg;

	run_config_free(&cfg);
	if (run_config_load(*argc, *argv, longopts, shortopts, other_keys, &cfg) != 0)
		return EXIT_USAGE;
	*argc = cfg.argc;
	*argv = cfg.argv;
	opt->config_path = cfg.path;
	opt->config_sha256 = cfg.path ? cfg.sha256 : NULL;
	opt->policy_inline = cfg.policy;
	return 0;
}

void
run_options_default_out(run_options *opt, const char *prefix, char *buf, size_t len)
{
	time_t		now = time(NULL);
	struct tm	tm;
	char		stamp[32];

	if (opt->out_dir)
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	snprintf(buf, len, "%s-%s", prefix, stamp);
	opt->out_dir = buf;
	opt->out_defaulted = true;
}
