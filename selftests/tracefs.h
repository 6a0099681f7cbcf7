/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where tracefs is, for trace_test and the bench's traced round: its own
 * mount point, the old one under debugfs, else mounted here (root).
 */
#ifndef GLOCK_TRACEFS_H
#define GLOCK_TRACEFS_H

#include <sys/mount.h>
#include <unistd.h>

static inline const char *tracefs(void)
{
	if (!access("/sys/kernel/tracing/instances", F_OK))
		return "/sys/kernel/tracing";
	if (!access("/sys/kernel/debug/tracing/instances", F_OK))
		return "/sys/kernel/debug/tracing";
	if (!mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return "/sys/kernel/tracing";
	return NULL;
}

#endif
