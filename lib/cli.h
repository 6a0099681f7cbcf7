/* SPDX-License-Identifier: GPL-2.0-only */
/* What the files of glock(1) share: glock-cli.c and its cli-*.c. */
#ifndef GLOCK_CLI_H
#define GLOCK_CLI_H

#include <getopt.h>
#include <stddef.h>

struct glock_dev;
struct glock_info;

/* Options every command recognises. */
#define COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

/* The --help text of the command being parsed. */
extern const char *cur_usage;

/* Print @usage (NULL: the current command's) and exit 0. */
void print_usage_exit(const char *usage) __attribute__((noreturn));
void print_version_exit(void) __attribute__((noreturn));

/*
 * getopt_long over options and positionals in any order, stopping at "--"
 * or, once @stop_after positionals are seen, at the next positional (the
 * command of "run"). Handles -h and -V, and reports bad options (exit 2).
 * Returns the option, or -1 at the end; positionals are appended to @pos;
 * *@rest is set to the index of what follows the stop. @shortopts starts
 * with "+:".
 */
int next_opt(int argc, char **argv, const char *shortopts,
	     const struct option *longopts, char **pos, int *npos,
	     int maxpos, int stop_after, int *rest);

/* Exit 2 unless @name is a valid lock name. */
void check_name(const char *name);
/* glock_open() or exit 2, saying when the module is not loaded. */
struct glock_dev *open_dev_or_die(void);
/* glock_state() or exit 2. */
void get_state(struct glock_dev *dev, const char *name,
	       struct glock_info *info);
/* "NAME: exclusive, held by pid 4711, sensord, 0 waiters" and the like. */
void format_state(const char *name, const struct glock_info *in, char *buf,
		  size_t len);

int cmd_list(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_cluster(int argc, char **argv);

#endif /* GLOCK_CLI_H */
