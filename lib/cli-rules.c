// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock rules: load, show and clear the access rules of this IPC
 * namespace. "show" prints a file that "load" accepts.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glock.h"
#include "tool.h"
#include "cli.h"

#define GLOCK_RULES_FILE	"/etc/glock/rules"

static const char usage_rules[] =
"\n"
"Usage:\n"
" glock rules load [FILE]\n"
" glock rules show [-n]\n"
" glock rules clear\n"
"\n"
"Manage who may take which lock names in this IPC namespace. FILE (default\n"
GLOCK_RULES_FILE ") has one rule a line, first match wins:\n"
"  PATTERN  USER  GROUP  MODE       e.g.   i2c-*  root  i2c  0660\n"
"PATTERN is a name, or a prefix ending in '*'; USER and GROUP are names or\n"
"numbers; MODE is octal, read like a file's for whoever opens /dev/glock:\n"
"4 may ask a lock's state, 2 may take it. A name no rule matches is open to\n"
"all. '#' starts a comment. load applies the whole file or, on any bad\n"
"line, nothing. load and clear need CAP_SYS_ADMIN.\n"
"\n"
"Options:\n"
" -n, --numeric          show uids and gids as numbers\n"
"\n"
" -h, --help             display this help\n"
" -V, --version          display version\n";

static int rules_load(const char *path)
{
	struct glock_rule_spec *rules;
	struct glock_dev *dev;
	unsigned int n;
	char err[256];
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		die(EXIT_ERROR, "%s: %s", path, strerror(errno));
	if (glock_rules_parse(f, &rules, &n, err, sizeof(err))) {
		if (errno == EINVAL)
			die(EXIT_ERROR, "%s: %s; nothing loaded", path, err);
		die(EXIT_ERROR, "%s: %s", path, strerror(errno));
	}
	fclose(f);
	dev = open_dev_or_die();
	if (glock_rules_set(dev, rules, n)) {
		if (errno == EPERM)
			die(EXIT_ERROR, "loading rules needs CAP_SYS_ADMIN");
		if (errno == ENOSPC)
			die(EXIT_ERROR, "%s: %u rules, more than the module's max_rules",
			    path, n);
		die_errno(EXIT_ERROR, "%s", path);
	}
	free(rules);
	glock_close(dev);
	return EXIT_DONE;
}

static int rules_clear(void)
{
	struct glock_dev *dev = open_dev_or_die();

	if (glock_rules_set(dev, NULL, 0)) {
		if (errno == EPERM)
			die(EXIT_ERROR, "clearing rules needs CAP_SYS_ADMIN");
		die_errno(EXIT_ERROR, "clear");
	}
	glock_close(dev);
	return EXIT_DONE;
}

static void print_id(unsigned int id, int group, int numeric)
{
	const char *name = NULL;

	if (!numeric) {
		if (group) {
			struct group *gr = getgrgid(id);

			name = gr ? gr->gr_name : NULL;
		} else {
			struct passwd *pw = getpwuid(id);

			name = pw ? pw->pw_name : NULL;
		}
	}
	if (name)
		printf("%-8s  ", name);
	else
		printf("%-8u  ", id);
}

static int rules_show(int numeric)
{
	struct glock_dev *dev = open_dev_or_die();
	struct glock_rule_spec *rules = NULL;
	int n, cap = 0;

	/* The table may grow between two calls: ask until it fits. */
	for (;;) {
		n = glock_rules_get(dev, rules, cap);
		if (n < 0)
			die_errno(EXIT_ERROR, "show");
		if (n <= cap)
			break;
		cap = n;
		free(rules);
		rules = calloc(cap, sizeof(*rules));
		if (!rules)
			die(EXIT_ERROR, "out of memory");
	}
	printf("# PATTERN  USER  GROUP  MODE (glock rules load accepts this)\n");
	for (int i = 0; i < n; i++) {
		printf("%-24s  ", rules[i].pattern);
		print_id(rules[i].uid, 0, numeric);
		print_id(rules[i].gid, 1, numeric);
		printf("%04o\n", rules[i].mode);
	}
	free(rules);
	glock_close(dev);
	return EXIT_DONE;
}

int cmd_rules(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "numeric", no_argument, NULL, 'n' },
		COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	char *pos[3];
	int npos = 0, rest, opt, numeric = 0;

	cur_usage = usage_rules;
	while ((opt = next_opt(argc, argv, "+:nhV", longopts, pos, &npos, 3,
			       0, &rest)) != -1) {
		if (opt == 'n')
			numeric = 1;
	}
	if (!npos)
		usage_error("missing what to do: load, show or clear");
	if (!strcmp(pos[0], "load")) {
		if (npos > 2)
			usage_error("load takes one file");
		return rules_load(npos == 2 ? pos[1] : GLOCK_RULES_FILE);
	}
	if (npos > 1)
		usage_error("%s takes no argument", pos[0]);
	if (!strcmp(pos[0], "show"))
		return rules_show(numeric);
	if (!strcmp(pos[0], "clear"))
		return rules_clear();
	usage_error("unknown rules command '%s'", pos[0]);
}
