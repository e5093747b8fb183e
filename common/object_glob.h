/*
 * common/object_glob.h
 *		The object globs of suppressions, shared by the extension (which
 *		applies suppressions to findings) and the driver (which checks inline
 *		directives before any cluster exists): one matcher, so the two can
 *		never disagree.  Pure C: no allocation, no PostgreSQL or libc state.
 */
#ifndef DRYDOCK_COMMON_OBJECT_GLOB_H
#define DRYDOCK_COMMON_OBJECT_GLOB_H

#include <stdbool.h>
#include <stddef.h>

/* glob: '*' any run of characters, '?' one character; the rest literal */
extern bool dd_glob_match(const char *pattern, const char *s, size_t len);

/*
 * Does a suppression's object glob G cover a finding's object O?  Yes if G
 * matches O itself, or a part of it: O = G.part (a column or constraint of
 * a table), O = G(args) (a function), O = "name on G" (a constraint,
 * trigger, rule or policy of a table, as captured identities write them).
 * A NULL object is the empty string.
 */
extern bool dd_object_glob_match(const char *glob, const char *object);

#endif							/* DRYDOCK_COMMON_OBJECT_GLOB_H */
