/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The order in which glock itself queued and granted one lock's requests,
 * read from its tracepoints, so that section 2 can count bypass from the
 * moment a request reached the lock rather than from a number drawn in
 * user space before the ioctl.
 */
#ifndef GLOCK_BENCH_TRACE_ORDER_H
#define GLOCK_BENCH_TRACE_ORDER_H

#include <stdio.h>

/*
 * Start recording @name's glock_contended and glock_acquire events in a
 * private trace instance (trace_clock "counter": one global sequence, so
 * events made under the object's lock come out in the order they were
 * made). Returns 0, or -1 with a reason in *@why.
 */
int trace_order_start(const char *name, const char **why);

/*
 * Stop recording and turn the events into arrival numbers in grant order:
 * @log[k] is the arrival number of the k-th acquisition, counting arrivals
 * when a request queued (glock_contended) or, if it never queued, when it
 * was granted. Returns the number of acquisitions (at most @max) and the
 * number of them that queued in *@queued, or -1. Removes the instance.
 */
long trace_order_stop(unsigned int *log, unsigned long max,
		      unsigned long *queued);

/* The same from trace text in @f; exposed for trace_order_selfcheck(). */
long trace_order_parse(FILE *f, const char *name, unsigned int *log,
		       unsigned long max, unsigned long *queued);

/* Parse a known trace and check its log: 0 when right, -1 when not. */
int trace_order_selfcheck(void);

#endif
