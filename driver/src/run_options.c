/*
 * run_options.c
 *		Parsing of the options drydock run and drydock replay share.
 */
#include "run_options.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

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
			if (strcmp(arg, "tap") == 0)
				opt->format_tap = true;
			else if (strcmp(arg, "text") != 0)
			{
				dd_error("--format must be text or tap: \"%s\"", arg);
				return -1;
			}
			return 1;
		case 'q':
			opt->quiet = true;
			return 1;
	}
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
}
