/*
 * run_options.h
 *		The command-line options drydock run and drydock replay share, parsed
 *		in one place so both commands spell and check them the same way.
 */
#ifndef DRYDOCK_RUN_OPTIONS_H
#define DRYDOCK_RUN_OPTIONS_H

#include <getopt.h>

#include "run.h"

enum
{
	OPT_SCAFFOLD = 256, OPT_PROD_SYSID, OPT_PROD_VERSION, OPT_TIMEOUT, OPT_ALLOW_META,
	OPT_RUN_AS, OPT_PG_CONFIG, OPT_PG, OPT_FRESH, OPT_APPLY_ROLE, OPT_APPLY_SUPER, OPT_FORMAT,
	OPT_ALLOW_WEAK, OPT_FAIL_ON, OPT_CONFIG, OPT_NO_CONFIG, OPT_SYNTH_ROWS, OPT_PROD_STATS,
	OPT_COMMON_END				/* a command's own options start here */
};

/* The long options both commands take; end a command's table with them. */
#define RUN_COMMON_LONG_OPTIONS \
	{"schema", required_argument, NULL, 's'}, \
	{"scaffold-schema", no_argument, NULL, OPT_SCAFFOLD}, \
	{"base", required_argument, NULL, 'b'}, \
	{"policy", required_argument, NULL, 'p'}, \
	{"prod-sysid", required_argument, NULL, OPT_PROD_SYSID}, \
	{"prod-version", required_argument, NULL, OPT_PROD_VERSION}, \
	{"timeout", required_argument, NULL, OPT_TIMEOUT}, \
	{"allow-meta", no_argument, NULL, OPT_ALLOW_META}, \
	{"run-as", required_argument, NULL, OPT_RUN_AS}, \
	{"pg-config", required_argument, NULL, OPT_PG_CONFIG}, \
	{"pg", required_argument, NULL, OPT_PG}, \
	{"fresh", no_argument, NULL, OPT_FRESH}, \
	{"apply-role", required_argument, NULL, OPT_APPLY_ROLE}, \
	{"apply-as-superuser", no_argument, NULL, OPT_APPLY_SUPER}, \
	{"allow-weak-containment", no_argument, NULL, OPT_ALLOW_WEAK}, \
	{"out", required_argument, NULL, 'o'}, \
	{"format", required_argument, NULL, OPT_FORMAT}, \
	{"fail-on", required_argument, NULL, OPT_FAIL_ON}, \
	{"config", required_argument, NULL, OPT_CONFIG}, \
	{"no-config", no_argument, NULL, OPT_NO_CONFIG}, \
	{"synthetic-rows", required_argument, NULL, OPT_SYNTH_ROWS}, \
	{"prod-stats", required_argument, NULL, OPT_PROD_STATS}, \
	{"quiet", no_argument, NULL, 'q'}, \
	{"help", no_argument, NULL, 'h'}, \
	{NULL, 0, NULL, 0}

#define RUN_COMMON_SHORT_OPTIONS "s:b:p:o:qh"

/*
 * Read the project's drydock.json (config.c) into opt and the argument
 * vector: argc and argv become the file's options followed by the command
 * line's.  other_keys: the other command's options (accepted in the file).
 * 0 or EXIT_USAGE (the error printed).  The strings live until exit.
 */
int			run_options_config(int *argc, char ***argv, const struct option *longopts,
							   const char *shortopts, const char *const *other_keys,
							   run_options *opt);

/* Defaults shared by both commands. */
void		run_options_defaults(run_options *opt);

/*
 * Apply option c (with its argument) to opt: 1 handled, 0 not a shared
 * option, -1 a bad value (the one-line error is printed).
 */
int			run_common_option(int c, const char *arg, run_options *opt);

/* Without --out: PREFIX-<UTC time> in the current directory (buf holds it). */
void		run_options_default_out(run_options *opt, const char *prefix, char *buf, size_t len);

/* An integer in [lo, hi], the whole string. */
bool		parse_int_in(const char *s, int lo, int hi, int *out);

#endif							/* DRYDOCK_RUN_OPTIONS_H */
