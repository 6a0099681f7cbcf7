// SPDX-License-Identifier: GPL-2.0-only
/*
 * Arrival and grant order of one glock, from glock's own tracepoints.
 *
 * glock emits glock_contended when a request joins the queue and
 * glock_acquire when a level is granted, both under the object's lock. A
 * trace instance with trace_clock "counter" stamps every event from one
 * atomic counter, so the merged per-CPU buffers read back in exactly the
 * order the events were made: the kernel's own arrival and grant order,
 * which section 2 compares the way it compares numbers drawn in user
 * space.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tracefs.h"
#include "trace_order.h"

#define MAX_OWNERS	64
/* Per CPU: ~60 B an event, two events per queued acquisition. */
#define BUFFER_KB	"16384"

static char inst[256];		/* the instance's directory, "" if none */
static char traced[256];	/* the lock's name */

static int put(const char *file, const char *s)
{
	char path[512];
	ssize_t len = strlen(s);
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", inst, file);
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ret = write(fd, s, len) == len ? 0 : -1;
	close(fd);
	return ret;
}

static void remove_instance(void)
{
	put("events/glock/glock_contended/enable", "0");
	put("events/glock/glock_acquire/enable", "0");
	rmdir(inst);
	inst[0] = '\0';
}

int trace_order_start(const char *name, const char **why)
{
	const char *tfs = tracefs();
	char filter[128];

	if (!tfs) {
		*why = "no tracefs";
		return -1;
	}
	snprintf(inst, sizeof(inst), "%s/instances/glock-bench-%d", tfs,
		 getpid());
	if (mkdir(inst, 0700)) {
		*why = "cannot make a trace instance";
		inst[0] = '\0';
		return -1;
	}
	snprintf(traced, sizeof(traced), "%s", name);
	snprintf(filter, sizeof(filter), "name == \"%s\"", name);
	if (put("trace_clock", "counter") ||
	    put("buffer_size_kb", BUFFER_KB) ||
	    put("events/glock/glock_contended/filter", filter) ||
	    put("events/glock/glock_acquire/filter", filter) ||
	    put("events/glock/glock_contended/enable", "1") ||
	    put("events/glock/glock_acquire/enable", "1")) {
		*why = "cannot set up glock's events in a trace instance";
		remove_instance();
		return -1;
	}
	return 0;
}

struct pending {
	unsigned long long owner;
	unsigned int arrival;
	bool queued;
};

static struct pending *find(struct pending *p, int *n,
			    unsigned long long owner)
{
	int i;

	for (i = 0; i < *n; i++)
		if (p[i].owner == owner)
			return &p[i];
	if (*n == MAX_OWNERS)
		return NULL;
	p[*n].owner = owner;
	p[*n].queued = false;
	return &p[(*n)++];
}

long trace_order_parse(FILE *f, const char *name, unsigned int *log,
		       unsigned long max, unsigned long *queued)
{
	struct pending owners[MAX_OWNERS], *o;
	unsigned int arrivals = 0, depth;
	unsigned long long owner;
	unsigned long n = 0;
	char line[512], ev_name[256];
	int nowners = 0;
	bool acquire;
	char *p;

	*queued = 0;
	while (fgets(line, sizeof(line), f)) {
		p = strstr(line, ": glock_contended: ");
		acquire = !p;
		if (acquire)
			p = strstr(line, ": glock_acquire: ");
		if (!p)
			continue;
		p = strchr(p + 2, ':') + 2;
		if (sscanf(p, "name=%255s owner=%llu mode=%*s depth=%u",
			   ev_name, &owner, &depth) != 3)
			return -1;
		if (strcmp(ev_name, name))
			continue;
		o = find(owners, &nowners, owner);
		if (!o)
			return -1;
		if (!acquire) {
			o->arrival = arrivals++;
			o->queued = true;
			continue;
		}
		if (depth != 1)		/* recursive: not a new hold */
			continue;
		if (o->queued)
			(*queued)++;
		else
			o->arrival = arrivals++;
		o->queued = false;
		if (n < max)
			log[n++] = o->arrival;
	}
	return n;
}

long trace_order_stop(unsigned int *log, unsigned long max,
		      unsigned long *queued)
{
	char path[512];
	long n = -1;
	FILE *f;

	if (!inst[0])
		return -1;
	put("tracing_on", "0");
	snprintf(path, sizeof(path), "%s/trace", inst);
	f = fopen(path, "re");
	if (f) {
		n = trace_order_parse(f, traced, log, max, queued);
		fclose(f);
	}
	remove_instance();
	return n;
}

/*
 * A owns the lock at once; B, then C queue; C is granted before B. The
 * log must read arrivals 0, 2, 1 (C bypassed B), with 2 of 3 queued; a
 * recursive level and another lock's events change nothing.
 */
int trace_order_selfcheck(void)
{
	static const char text[] =
		"# tracer: nop\n"
		" b-1 [000] ..... 1: glock_acquire: name=x owner=7 mode=exclusive depth=1\n"
		" b-2 [001] ..... 2: glock_contended: name=x owner=8 mode=exclusive depth=0\n"
		" b-1 [000] ..... 3: glock_acquire: name=x owner=7 mode=exclusive depth=2\n"
		" b-3 [000] ..... 4: glock_contended: name=x owner=9 mode=exclusive depth=0\n"
		" b-4 [001] ..... 5: glock_acquire: name=y owner=8 mode=exclusive depth=1\n"
		" b-1 [000] ..... 6: glock_acquire: name=x owner=9 mode=exclusive depth=1\n"
		" b-3 [001] ..... 7: glock_acquire: name=x owner=8 mode=exclusive depth=1\n";
	unsigned int log[4];
	unsigned long queued;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	long n;

	if (!f)
		return -1;
	n = trace_order_parse(f, "x", log, 4, &queued);
	fclose(f);
	return n == 3 && queued == 2 && log[0] == 0 && log[1] == 2 &&
	       log[2] == 1 ? 0 : -1;
}
