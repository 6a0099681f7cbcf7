// SPDX-License-Identifier: GPL-2.0-only
/* Helpers shared by the glock tools: messages, exit codes, parsing. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

void require_module(void)
{
	if (access(GLOCK_DEVICE, F_OK) && access(GLOCK_SYSMODULE, F_OK))
		die(EXIT_ERROR,
		    "the glock module is not loaded (no %s): modprobe glock",
		    GLOCK_DEVICE);
}

/* The label of the kernel owner holding @name, from debugfs; 0 if unknown. */
static int kernel_holder(const char *name, char *buf, size_t len)
{
	char line[1024];
	const char *v;
	struct rec r;
	int found = 0;
	FILE *f;

	f = debugfs_open("locks");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (rec_parse(line, &r) || strcmp(r.type, "holder"))
			continue;
		v = rec_get(&r, "lock");
		if (!v || strcmp(v, name))
			continue;
		v = rec_get(&r, "kind");
		if (v && !strcmp(v, "kernel") && rec_get(&r, "comm")) {
			snprintf(buf, len, "kernel owner %s", rec_get(&r, "comm"));
			found = 1;
		}
	}
	fclose(f);
	return found;
}

void describe_holder_info(const char *name, const struct glock_info *info,
			  char *buf, size_t len)
{
	char path[64], comm[64] = "";
	FILE *f;

	buf[0] = '\0';
	if (info->mode == 0)
		return;
	if (info->mode == GLOCK_SHARED) {
		snprintf(buf, len, "%u shared holder%s", info->holders,
			 info->holders == 1 ? "" : "s");
		return;
	}
	if (info->result & GLOCK_R_KERNEL) {
		if (!kernel_holder(name, buf, len))
			snprintf(buf, len, "a kernel owner");
		return;
	}
	if (info->owner_pid <= 0) {
		/* e.g. a shell's "exec 9<>/dev/glock" after "glock lock --fd 9" */
		snprintf(buf, len,
			 "an open file whose locking process has exited");
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)info->owner_pid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof(comm), f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(buf, len, "pid %d%s%s", (int)info->owner_pid,
		 comm[0] ? ", " : "", comm);
}

void describe_holder(const char *name, char *buf, size_t len)
{
	struct glock_info info;
	struct glock_dev *dev;

	buf[0] = '\0';
	dev = glock_open();
	if (!dev)
		return;
	if (glock_state(dev, name, &info) == 0)
		describe_holder_info(name, &info, buf, len);
	glock_close(dev);
}
