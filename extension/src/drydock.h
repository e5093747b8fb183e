/*
 * drydock.h
 *		Declarations shared between the C files of the drydock extension.
 */
#ifndef DRYDOCK_H
#define DRYDOCK_H

#include "nodes/pg_list.h"

/* The one version source is drydock.control; the Makefile passes it in. */
#ifndef DRYDOCK_VERSION
#error "DRYDOCK_VERSION must come from the Makefile (default_version of drydock.control)"
#endif

/*
 * PostgreSQL 18 keeps a column's NOT NULL as a pg_constraint row of this
 * type (17 does for a domain's), with a generated name
 * (<table>_<column>_not_null).  drydock describes NOT NULL as a property of
 * the column on every major (pg_attribute.attnotnull, pg_type.typnotnull),
 * so these rows are left out wherever constraints are listed: the same DDL
 * then gets the same description, diff and findings on 13 to 18.
 */
/* A List of C strings as a text[] Datum (drydock.c), for SRF rows and SPI arguments. */
extern Datum drydock_text_array(List *l);

#ifndef CONSTRAINT_NOTNULL
#define CONSTRAINT_NOTNULL 'n'
#endif

#endif							/* DRYDOCK_H */
