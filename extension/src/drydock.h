/*
 * drydock.h
 *		Declarations shared between the C files of the drydock extension.
 */
#ifndef DRYDOCK_H
#define DRYDOCK_H

/* The one version source is drydock.control; the Makefile passes it in. */
#ifndef DRYDOCK_VERSION
#error "DRYDOCK_VERSION must come from the Makefile (default_version of drydock.control)"
#endif

#endif							/* DRYDOCK_H */
