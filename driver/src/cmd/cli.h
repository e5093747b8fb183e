/*
 * cli.h
 *		The driver's subcommands and what main() shares with them.
 */
#ifndef DRYDOCK_CLI_H
#define DRYDOCK_CLI_H

/* Each returns the process exit code. */
int			cmd_exec(int argc, char **argv);
int			cmd_gc(int argc, char **argv);
int			cmd_run(int argc, char **argv);
int			cmd_replay(int argc, char **argv);

/* Decide whether progress lines are shown (--quiet, stderr not a tty). */
void		cli_set_quiet(int quiet);

/*
 * Remove every libpq and psql variable from the driver's own environment,
 * so nothing of the caller's can redirect a connection it makes.
 */
void		scrub_environment(void);

#endif							/* DRYDOCK_CLI_H */
