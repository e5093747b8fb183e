/*
 * since.h
 *		drydock replay --since GIT_REF: the files of a migration directory
 *		that git says were added or changed since REF.
 */
#ifndef DRYDOCK_SINCE_H
#define DRYDOCK_SINCE_H

#include <stddef.h>

#include <jansson.h>

/*
 * The files under dir changed since ref (git diff --name-only REF, plus
 * files git does not track yet), as an object whose keys are paths relative
 * to dir.  NULL with a one-line message in err (git missing, not a
 * repository, an unknown REF).
 */
json_t	   *since_changed_files(const char *dir, const char *ref, char *err, size_t errlen);

#endif							/* DRYDOCK_SINCE_H */
