/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers shared by the glock tools: messages, exit codes, parsing. */
#ifndef GLOCK_TOOL_H
#define GLOCK_TOOL_H

#include <stdint.h>
#include <stdio.h>

/* Exit codes of every glock tool. */
#define EXIT_DONE	0	/* done */
#define EXIT_NOTOBT	1	/* lock not obtained: timeout, busy, deadlock */
#define EXIT_ERROR	2	/* usage or system error */

#ifndef GLOCK_DEBUGFS
#define GLOCK_DEBUGFS	"/sys/kernel/debug/glock"
#endif
#define GLOCK_SYSMODULE	"/sys/module/glock"

extern const char *tool_name;		/* "glock" */
extern const char *tool_cmd;		/* current subcommand, for hints */

void die(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
/* die() with ": <glock_strerror(errno)>" appended. */
void die_errno(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "glock: <msg>\nTry 'glock [CMD] --help'." and exit 2. */
void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Seconds as typed by a human ("0.5", "2", "-1" = forever); dies on junk. */
double parse_seconds(const char *s, const char *what);
/* Seconds to a glock timeout in ns: < 0 forever, 0 try. */
int64_t seconds_to_ns(double sec);
long parse_long(const char *s, const char *what, long min, long max);

/* One debugfs record: "type key=value key=value ...", parsed in place. */
#define REC_MAX_FIELDS	32
struct rec {
	char *type;
	int n;
	char *key[REC_MAX_FIELDS];
	char *val[REC_MAX_FIELDS];
};

/* Split @line (modified) into @r. Returns 0, or -1 for an empty line. */
int rec_parse(char *line, struct rec *r);
/* The value of @key, or NULL. */
const char *rec_get(const struct rec *r, const char *key);
/* Open GLOCK_DEBUGFS/<file> for reading, NULL + errno. */
FILE *debugfs_open(const char *file);
/* Exit 2 saying "the glock module is not loaded" when it is not. */
void require_module(void);

/*
 * Who holds @name, from STATE (the same for every user): "pid 4711,
 * sensord" (the process that took the exclusive hold), "an open file whose
 * locking process has exited", "a kernel owner" (with its label when
 * debugfs is readable), "3 shared holders". "" when free.
 */
void describe_holder(const char *name, char *buf, size_t len);
struct glock_info;
/* The same from a STATE snapshot already taken. */
void describe_holder_info(const char *name, const struct glock_info *info,
			  char *buf, size_t len);

#endif /* GLOCK_TOOL_H */
