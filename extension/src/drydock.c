/*
 * drydock.c
 *		Module entry point of the drydock extension: the magic block and
 *		drydock.version().
 *
 * Each area of the extension lives in its own file (catalog state, capture,
 * verification, pgTAP generation); this file only holds what belongs to the
 * module as a whole, and the one small helper several areas share.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "drydock.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(drydock_version);

/*
 * drydock.version() returns the version compiled into the library.
 */
Datum
drydock_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(DRYDOCK_VERSION));
}

Datum
drydock_text_array(List *l)
{
	Datum	   *elems = palloc(sizeof(Datum) * (list_length(l) + 1));
	int			n = 0;
	ListCell   *lc;

	foreach(lc, l)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}
