/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * glock tracepoints: the "glock" trace system, events glock_acquire,
 * glock_contended, glock_release, glock_abandon, glock_timeout and
 * glock_deadlock (prefixed, as the kernel's own events are, so that the
 * trace_*() functions and tracepoint symbols name their module).
 *
 * Every event carries the lock name, the owner id (as in debugfs), the mode
 * and a depth (acquire: depth now held; release: depth left; others 0).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM glock

#if !defined(_GLOCK_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GLOCK_TRACE_H

#include <linux/tracepoint.h>

/* __assign_str() lost its source argument in 6.10; Kbuild tells which. */
#ifdef GLOCK_ASSIGN_STR_ONE_ARG
#define glock_assign_name(field, src)	__assign_str(field)
#else
#define glock_assign_name(field, src)	__assign_str(field, src)
#endif

DECLARE_EVENT_CLASS(glock_event,
		    TP_PROTO(const char *name, u64 owner, u32 mode, u32 depth),
		    TP_ARGS(name, owner, mode, depth),
		    TP_STRUCT__entry(__string(name, name)
				     __field(u64, owner)
				     __field(u32, mode)
				     __field(u32, depth)),
		    TP_fast_assign(glock_assign_name(name, name);
				   __entry->owner = owner;
				   __entry->mode = mode;
				   __entry->depth = depth;),
		    TP_printk("name=%s owner=%llu mode=%s depth=%u",
			      __get_str(name), __entry->owner,
			      __print_symbolic(__entry->mode,
					       { 0, "free" },
					       { 1, "exclusive" },
					       { 2, "shared" }),
			      __entry->depth)
);

#define GLOCK_DEFINE_EVENT(event)					\
DEFINE_EVENT(glock_event, event,					\
	TP_PROTO(const char *name, u64 owner, u32 mode, u32 depth),	\
	TP_ARGS(name, owner, mode, depth))

GLOCK_DEFINE_EVENT(glock_acquire);
GLOCK_DEFINE_EVENT(glock_contended);
GLOCK_DEFINE_EVENT(glock_release);
GLOCK_DEFINE_EVENT(glock_abandon);
GLOCK_DEFINE_EVENT(glock_timeout);
GLOCK_DEFINE_EVENT(glock_deadlock);

#endif /* _GLOCK_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
