/*
 * cmd_run.c
 *		drydock run: placeholder until the run pipeline lands (issue 5).
 */
#include "cli.h"
#include "util.h"

int
cmd_run(int argc, char **argv)
{
	(void) argc;
	(void) argv;
	dd_error("run is not built yet");
	return EXIT_INTERNAL;
}
