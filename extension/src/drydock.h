/*
 * drydock.h
 *		Declarations shared between the C files of the drydock extension.
 */
#ifndef DRYDOCK_H
#define DRYDOCK_H

#define DRYDOCK_VERSION "0.1.0"

#endif							/* DRYDOCK_H */
