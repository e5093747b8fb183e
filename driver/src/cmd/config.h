/*
 * config.h
 *		drydock.json, the project's configuration: defaults for the options a
 *		project always passes (each key named as its long option), and the
 *		policy (a file's path or the policy object itself).  Found in the
 *		current directory or the nearest parent up to the repository root,
 *		or named with --config FILE; --no-config ignores it.
 */
#ifndef DRYDOCK_CONFIG_H
#define DRYDOCK_CONFIG_H

#include <getopt.h>
#include <stdbool.h>

#include <jansson.h>

typedef struct run_config
{
	char	   *path;			/* the file used, as found; NULL: none */
	char		sha256[65];
	json_t	   *policy;			/* an inline "policy" object, or NULL */
	int			argc;			/* argv[0], the file's options, the command line's */
	char	  **argv;
	char	  **owned;			/* the strings made for argv */
	int			n_owned;
} run_config;

/*
 * Load the configuration for a command whose options are longopts and
 * shortopts, with the command line argc/argv: cfg->argv becomes argv[0],
 * then an option for each key the command line does not give, then the
 * command line itself (so the command line wins, whatever getopt does with
 * repeated options).  other_keys: options of the other command that takes
 * the file (accepted, ignored).  0, or EXIT_USAGE with the error printed as
 * "drydock: FILE:LINE: message".
 */
int			run_config_load(int argc, char **argv, const struct option *longopts,
							const char *shortopts, const char *const *other_keys,
							run_config *cfg);
void		run_config_free(run_config *cfg);

#endif							/* DRYDOCK_CONFIG_H */
