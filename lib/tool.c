// SPDX-License-Identifier: GPL-2.0-only
/* Helpers shared by the glock tools: messages, exit codes, parsing. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "glock.h"
#include "tool.h"

const char *tool_name = "glock";
const char *tool_cmd;

static void vmsg(const char *fmt, va_list ap, int err)
{
	fprintf(stderr, "%s: ", tool_name);
	vfprintf(stderr, fmt, ap);
	if (err >= 0)
		fprintf(stderr, ": %s", glock_strerror(err));
	fputc('\n', stderr);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, -1);
	va_end(ap);
	exit(code);
}

void die_errno(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, err);
	va_end(ap);
	exit(code);
}

void warnmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, -1);
	va_end(ap);
}

void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, -1);
	va_end(ap);
	if (tool_cmd)
		fprintf(stderr, "Try '%s %s --help'.\n", tool_name, tool_cmd);
	else
		fprintf(stderr, "Try '%s --help'.\n", tool_name);
	exit(EXIT_ERROR);
}

double parse_seconds(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || isnan(v) || v > 1e9)
		usage_error("invalid %s '%s' (seconds, e.g. 0.5)", what, s);
	return v;
}

int64_t seconds_to_ns(double sec)
{
	if (sec < 0)
		return GLOCK_FOREVER;
	/* A positive request never rounds down to a try. */
	if (sec > 0 && sec * 1e9 < 1)
		return 1;
	return (int64_t)llround(sec * 1e9);
}

long parse_long(const char *s, const char *what, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		usage_error("invalid %s '%s'", what, s);
	return v;
}

int rec_parse(char *line, struct rec *r)
{
	char *save = NULL, *tok, *eq;

	line[strcspn(line, "\n")] = '\0';
	memset(r, 0, sizeof(*r));
	r->type = strtok_r(line, " ", &save);
	if (!r->type)
		return -1;
	while ((tok = strtok_r(NULL, " ", &save)) && r->n < REC_MAX_FIELDS) {
		eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = '\0';
		r->key[r->n] = tok;
		r->val[r->n] = eq + 1;
		r->n++;
	}
	return 0;
}

const char *rec_get(const struct rec *r, const char *key)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->key[i], key))
			return r->val[i];
	return NULL;
}

FILE *debugfs_open(const char *file)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", GLOCK_DEBUGFS, file);
	return fopen(path, "re");
}

/* The holders of @name listed in debugfs; 0 if debugfs is unreadable. */
static int holders_from_debugfs(const char *name, char *buf, size_t len)
{
	char line[1024], first[300] = "";
	int count = 0, found = 0;
	const char *v;
	struct rec r;
	FILE *f;

	f = debugfs_open("locks");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (rec_parse(line, &r) || strcmp(r.type, "holder"))
			continue;
		v = rec_get(&r, "lock");
		if (!v || strcmp(v, name))
			continue;
		found = 1;
		if (count++)
			continue;
		v = rec_get(&r, "kind");
		if (v && !strcmp(v, "kernel"))
			snprintf(first, sizeof(first), "kernel owner %s",
				 rec_get(&r, "comm") ?: "?");
		else
			snprintf(first, sizeof(first), "pid %s, %s",
				 rec_get(&r, "pid") ?: "?",
				 rec_get(&r, "comm") ?: "?");
	}
	fclose(f);
	if (count > 1)
		snprintf(buf, len, "%d holders; first: %s", count, first);
	else if (count == 1)
		snprintf(buf, len, "%s", first);
	return found;
}

void describe_holder(const char *name, char *buf, size_t len)
{
	struct glock_info info;
	struct glock_dev *dev;
	char path[64], comm[64] = "";
	FILE *f;

	buf[0] = '\0';
	if (holders_from_debugfs(name, buf, len))
		return;
	/* No debugfs (not root, not mounted): STATE and /proc. */
	dev = glock_open();
	if (!dev)
		return;
	if (glock_state(dev, name, &info) == 0) {
		if (info.result & GLOCK_R_KERNEL) {
			snprintf(buf, len, "a kernel owner");
		} else if (info.owner_pid > 0) {
			snprintf(path, sizeof(path), "/proc/%d/comm",
				 (int)info.owner_pid);
			f = fopen(path, "re");
			if (f) {
				if (fgets(comm, sizeof(comm), f))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(f);
			}
			snprintf(buf, len, "pid %d%s%s", (int)info.owner_pid,
				 comm[0] ? ", " : "", comm);
		} else if (info.holders > 1 || info.mode == GLOCK_SHARED) {
			snprintf(buf, len, "%u shared holder%s", info.holders,
				 info.holders == 1 ? "" : "s");
		}
	}
	glock_close(dev);
}
