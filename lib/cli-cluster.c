// SPDX-License-Identifier: GPL-2.0-only
/*
 * glock cluster status: the cluster: scope's lockspace, as glock_dlm and
 * dlm_controld show it in sysfs and configfs (no ioctl is involved).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tool.h"

#define GDLM_PARAMS	"/sys/module/glock_dlm/parameters"
#define DLM_CONFIG	"/sys/kernel/config/dlm/cluster"

static const char usage_cluster[] =
"\n"
"Usage:\n"
" glock cluster status\n"
"\n"
"Show the lockspace of the cluster: names (glock_dlm): its state (down,\n"
"joining, up, recovering), this node's id, the lockspace's members and the\n"
"nodes dlm_controld configured.\n"
"\n"
"Exit status: 0 up, 1 loaded but not up, 2 glock_dlm not loaded or usage.\n";

/* The first line of @path, without its newline; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = 0;
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* Print the numeric entries of @dir, sorted by the shell's order. */
static int list_ids(const char *dir, const char *local_attr)
{
	struct dirent **ents;
	char path[512], v[64];
	int n, i, shown = 0;

	n = scandir(dir, &ents, NULL, alphasort);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		const char *d = ents[i]->d_name;

		if (d[0] != '.') {
			printf(" %s", d);
			if (local_attr) {
				snprintf(path, sizeof(path), "%s/%s/%s", dir, d,
					 local_attr);
				read_line(path, v, sizeof(v));
				if (!strcmp(v, "1"))
					printf("(this node)");
			}
			shown++;
		}
		free(ents[i]);
	}
	free(ents);
	return shown;
}

int cmd_cluster(int argc, char **argv)
{
	static const struct option longopts[] = { COMMON_LONGOPTS, { 0 } };
	char *pos[2], state[32], ls[80], cname[80], path[256];
	int npos = 0, rest, c;

	cur_usage = usage_cluster;
	while ((c = next_opt(argc, argv, "+:hV", longopts, pos, &npos, 1, 0,
			     &rest)) != -1)
		;
	if (npos != 1 || strcmp(pos[0], "status"))
		usage_error("usage: glock cluster status");

	read_line(GDLM_PARAMS "/state", state, sizeof(state));
	if (!state[0])
		die(EXIT_ERROR, "glock_dlm is not loaded (modprobe glock_dlm; see README \"Cluster\")");
	read_line(GDLM_PARAMS "/lockspace", ls, sizeof(ls));
	read_line(DLM_CONFIG "/cluster_name", cname, sizeof(cname));
	printf("lockspace: %s\nstate: %s\ncluster: %s\n", ls, state,
	       cname[0] ? cname : "(none: dlm_controld not running)");
	snprintf(path, sizeof(path), DLM_CONFIG "/spaces/%s/nodes", ls);
	printf("members:");
	if (list_ids(path, NULL) <= 0)
		printf(" (none)");
	printf("\nnodes:");
	if (list_ids(DLM_CONFIG "/comms", "local") <= 0)
		printf(" (none)");
	printf("\n");
	return strcmp(state, "up") ? EXIT_NOTOBT : EXIT_DONE;
}
