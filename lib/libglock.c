// SPDX-License-Identifier: LGPL-2.1-or-later
/* libglock: the C library over the /dev/glock ioctls (see glock.h). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "glock.h"

#define GLOCK_API __attribute__((visibility("default")))

_Static_assert(sizeof(struct glock_lock) == 64, "uapi struct glock_lock");
_Static_assert(sizeof(struct glock_state) == 64, "uapi struct glock_state");

struct glock_dev {
	int fd;
	int owns_fd;	/* close fd in glock_close(); not for glock_open_fd() */
};

static struct glock_dev *dev_new(int fd, int owns_fd)
{
	struct glock_dev *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->fd = fd;
	dev->owns_fd = owns_fd;
	return dev;
}

GLOCK_API struct glock_dev *glock_open(void)
{
	struct glock_dev *dev;
	int fd, err;

	fd = open(GLOCK_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	dev = dev_new(fd, 1);
	if (!dev) {
		err = errno;
		close(fd);
		errno = err;
	}
	return dev;
}

GLOCK_API struct glock_dev *glock_open_fd(int fd)
{
	struct glock_state st;
	static const char probe[] = "x";

	/* A STATE of a valid name is harmless and proves this is /dev/glock. */
	memset(&st, 0, sizeof(st));
	st.name = (uintptr_t)probe;
	st.name_len = 1;
	if (ioctl(fd, GLOCK_IOC_STATE, &st) < 0)
		return NULL;
	return dev_new(fd, 0);
}

GLOCK_API void glock_close(struct glock_dev *dev)
{
	int err = errno;

	if (!dev)
		return;
	if (dev->owns_fd)
		close(dev->fd);
	free(dev);
	errno = err;
}

GLOCK_API int glock_fd(const struct glock_dev *dev)
{
	if (!dev) {
		errno = EINVAL;
		return -1;
	}
	return dev->fd;
}

/* Fill the name fields; the kernel does the full validation. */
static int set_name(const char *name, __u64 *ptr, __u32 *len)
{
	size_t n;

	if (!name) {
		errno = EINVAL;
		return -1;
	}
	n = strnlen(name, GLOCK_NAME_MAX + 1);
	if (n == 0 || n > GLOCK_NAME_MAX) {
		errno = EINVAL;
		return -1;
	}
	*ptr = (uintptr_t)name;
	*len = n;
	return 0;
}

/* Issue LOCK or UNLOCK with @req's other fields already set. */
static int lock_ioctl(struct glock_dev *dev, const char *name,
		      unsigned long cmd, struct glock_lock *req)
{
	if (!dev) {
		errno = EINVAL;
		return -1;
	}
	if (set_name(name, &req->name, &req->name_len))
		return -1;
	return ioctl(dev->fd, cmd, req) < 0 ? -1 : 0;
}

static int do_lock(struct glock_dev *dev, const char *name, unsigned int mode,
		   int64_t timeout_ns, unsigned int flags,
		   unsigned int *result)
{
	struct glock_lock req = {
		.mode = mode,
		.timeout_ns = timeout_ns,
		.flags = flags,
	};

	if (lock_ioctl(dev, name, GLOCK_IOC_LOCK, &req))
		return -1;
	if (result)
		*result = req.result;
	return req.depth;
}

GLOCK_API int glock_lock(struct glock_dev *dev, const char *name,
			 unsigned int mode, int64_t timeout_ns,
			 unsigned int *result)
{
	return do_lock(dev, name, mode, timeout_ns, 0, result);
}

GLOCK_API int glock_lock_until(struct glock_dev *dev, const char *name,
			       unsigned int mode, int64_t deadline_ns,
			       unsigned int *result)
{
	return do_lock(dev, name, mode, deadline_ns, GLOCK_F_ABSTIME, result);
}

GLOCK_API int glock_trylock(struct glock_dev *dev, const char *name,
			    unsigned int mode, unsigned int *result)
{
	return do_lock(dev, name, mode, GLOCK_TRY, 0, result);
}

GLOCK_API int glock_unlock(struct glock_dev *dev, const char *name)
{
	struct glock_lock req = { 0 };

	if (lock_ioctl(dev, name, GLOCK_IOC_UNLOCK, &req))
		return -1;
	return req.depth;
}

GLOCK_API int glock_state(struct glock_dev *dev, const char *name,
			  struct glock_info *info)
{
	struct glock_state st;

	if (!dev || !info) {
		errno = EINVAL;
		return -1;
	}
	memset(&st, 0, sizeof(st));
	if (set_name(name, &st.name, &st.name_len))
		return -1;
	if (ioctl(dev->fd, GLOCK_IOC_STATE, &st) < 0)
		return -1;
	memset(info, 0, sizeof(*info));
	info->mode = st.mode;
	info->holders = st.holders;
	info->waiters = st.waiters;
	info->depth = st.depth;
	info->owner_pid = st.owner_pid;
	info->result = st.result;
	return 0;
}

GLOCK_API int glock_name_check(const char *name)
{
	size_t i, n;

	if (!name)
		goto bad;
	n = strnlen(name, GLOCK_NAME_MAX + 1);
	if (n == 0 || n > GLOCK_NAME_MAX)
		goto bad;
	for (i = 0; i < n; i++) {
		unsigned char c = name[i];

		if (c < 0x21 || c > 0x7e)
			goto bad;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

GLOCK_API int64_t glock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * GLOCK_NSEC_PER_SEC + ts.tv_nsec;
}

GLOCK_API const char *glock_strerror(int errnum)
{
	switch (errnum) {
	case 0:
		return "success";
	case ETIMEDOUT:
		return "timed out";
	case EAGAIN:
		return "busy (held by another owner)";
	case EDEADLK:
		return "would deadlock (wait cycle, or held in the other mode)";
	case EPERM:
		return "not held by this owner";
	case EINTR:
		return "interrupted by a signal (nothing held or queued)";
	case EINVAL:
		return "invalid argument (name: 1..255 bytes 0x21..0x7e; mode)";
	case ENOLCK:
		return "too many locks (per-owner, per-user or global limit)";
	case EACCES:
		return "permission denied by the access rules (glock rules show)";
	case EOVERFLOW:
		return "recursion too deep (the module's max_depth)";
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "no such device: is glock.ko loaded?";
	case ENOTTY:
		return "not a " GLOCK_DEVICE " descriptor";
	case ENOTCONN:
		return "cluster not reachable (glock_dlm not loaded or its lockspace not up: glock cluster status)";
	case EOPNOTSUPP:
		return "not for cluster: names (use the name, not a handle)";
	case EBADF:
		return "bad file descriptor";
	default:
		return strerror(errnum);
	}
}

GLOCK_API const char *glock_strresult(unsigned int result)
{
	if (result & GLOCK_R_ABANDONED)
		return "abandoned: the previous holder died holding it";
	return "";
}

GLOCK_API const char *glock_mode_name(unsigned int mode)
{
	switch (mode) {
	case 0:
		return "free";
	case GLOCK_EXCLUSIVE:
		return "exclusive";
	case GLOCK_SHARED:
		return "shared";
	default:
		return "?";
	}
}

/* ---- access rules ------------------------------------------------------ */

_Static_assert(sizeof(struct glock_rule) == 64, "uapi struct glock_rule");
_Static_assert(sizeof(struct glock_rules) == 64, "uapi struct glock_rules");

GLOCK_API int glock_rules_set(struct glock_dev *dev,
			      const struct glock_rule_spec *rules,
			      unsigned int count)
{
	struct glock_rules req = { .count = count };
	struct glock_rule *kr = NULL;
	int ret, err;

	if (!dev || (count && !rules)) {
		errno = EINVAL;
		return -1;
	}
	if (count) {
		kr = calloc(count, sizeof(*kr));
		if (!kr)
			return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		if (set_name(rules[i].pattern, &kr[i].pattern,
			     &kr[i].pattern_len)) {
			free(kr);
			return -1;
		}
		kr[i].uid = rules[i].uid;
		kr[i].gid = rules[i].gid;
		kr[i].mode = rules[i].mode;
	}
	req.rules = (uintptr_t)kr;
	ret = ioctl(dev->fd, GLOCK_IOC_SET_RULES, &req);
	err = errno;
	free(kr);
	errno = err;
	return ret < 0 ? -1 : 0;
}

GLOCK_API int glock_rules_get(struct glock_dev *dev,
			      struct glock_rule_spec *rules, unsigned int cap)
{
	struct glock_rules req = { .count = cap };
	struct glock_rule *kr = NULL;
	unsigned int n;
	int err;

	if (!dev || (cap && !rules)) {
		errno = EINVAL;
		return -1;
	}
	if (cap) {
		kr = calloc(cap, sizeof(*kr));
		if (!kr)
			return -1;
	}
	for (unsigned int i = 0; i < cap; i++) {
		memset(&rules[i], 0, sizeof(rules[i]));
		kr[i].pattern = (uintptr_t)rules[i].pattern;
	}
	req.rules = (uintptr_t)kr;
	if (ioctl(dev->fd, GLOCK_IOC_GET_RULES, &req) < 0) {
		err = errno;
		free(kr);
		errno = err;
		return -1;
	}
	n = req.count < cap ? req.count : cap;
	for (unsigned int i = 0; i < n; i++) {
		rules[i].pattern[kr[i].pattern_len] = '\0';
		rules[i].uid = kr[i].uid;
		rules[i].gid = kr[i].gid;
		rules[i].mode = kr[i].mode;
	}
	free(kr);
	return req.count;
}

/* One field of a rules line: a user or group by name or number. */
static int rules_id(const char *s, int group, unsigned int *id)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s && !*end && !errno && v < (unsigned int)-1) {
		*id = v;
		return 0;
	}
	if (group) {
		struct group *gr = getgrnam(s);

		if (gr) {
			*id = gr->gr_gid;
			return 0;
		}
	} else {
		struct passwd *pw = getpwnam(s);

		if (pw) {
			*id = pw->pw_uid;
			return 0;
		}
	}
	return -1;
}

/* Parse one non-empty line into @r; a message in @err on failure. */
static int rules_line(char *line, struct glock_rule_spec *r, char *err,
		      size_t errlen)
{
	char *f[5], *save = NULL, *end;
	unsigned long mode;
	int n = 0;

	for (char *t = strtok_r(line, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save))
		f[n < 5 ? n++ : 4] = t;
	if (n != 4) {
		snprintf(err, errlen, "expected PATTERN USER GROUP MODE");
		return -1;
	}
	if (glock_name_check(f[0])) {
		snprintf(err, errlen,
			 "bad pattern '%s' (1..%d bytes, 0x21..0x7e)", f[0],
			 GLOCK_NAME_MAX);
		return -1;
	}
	strcpy(r->pattern, f[0]);
	if (rules_id(f[1], 0, &r->uid)) {
		snprintf(err, errlen, "unknown user '%s'", f[1]);
		return -1;
	}
	if (rules_id(f[2], 1, &r->gid)) {
		snprintf(err, errlen, "unknown group '%s'", f[2]);
		return -1;
	}
	errno = 0;
	mode = strtoul(f[3], &end, 8);
	if (*end || errno || mode > 0777 || (mode & 0111)) {
		snprintf(err, errlen,
			 "bad mode '%s' (octal, 0..0666, no x bits)", f[3]);
		return -1;
	}
	r->mode = mode;
	return 0;
}

GLOCK_API int glock_rules_parse(FILE *in, struct glock_rule_spec **rules,
				unsigned int *count, char *err, size_t errlen)
{
	struct glock_rule_spec *v = NULL, *nv;
	unsigned int n = 0, cap = 0, lineno = 0;
	char line[1024], msg[200];
	char *p;

	*rules = NULL;
	*count = 0;
	while (fgets(line, sizeof(line), in)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(in)) {
			snprintf(err, errlen, "line %u: too long", lineno);
			goto err_inval;
		}
		p = strchr(line, '#');
		if (p)
			*p = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		if (!line[strspn(line, " \t")])
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				goto err;
			v = nv;
		}
		memset(&v[n], 0, sizeof(v[n]));
		if (rules_line(line, &v[n], msg, sizeof(msg))) {
			snprintf(err, errlen, "line %u: %s", lineno, msg);
			goto err_inval;
		}
		n++;
	}
	if (ferror(in))
		goto err;
	*rules = v;
	*count = n;
	return 0;

err_inval:
	errno = EINVAL;
err:
	free(v);
	return -1;
}

/* ---- handles ----------------------------------------------------------- */

_Static_assert(sizeof(struct glock_handle) == 64, "uapi struct glock_handle");

GLOCK_API int glock_handle_open(struct glock_dev *dev, const char *name)
{
	struct glock_handle req = { 0 };

	if (!dev) {
		errno = EINVAL;
		return -1;
	}
	if (set_name(name, &req.name, &req.name_len))
		return -1;
	if (ioctl(dev->fd, GLOCK_IOC_GET_HANDLE, &req) < 0)
		return -1;
	return req.handle;
}

static int handle_lock(struct glock_dev *dev, int handle, unsigned int mode,
		       unsigned int try, unsigned int *result)
{
	int ret;

	if (!dev || handle <= 0 || handle > 0xffff ||
	    (mode != GLOCK_EXCLUSIVE && mode != GLOCK_SHARED)) {
		errno = EINVAL;
		return -1;
	}
	ret = ioctl(dev->fd, GLOCK_IOC_HLOCK,
		    (unsigned long)handle | mode << GLOCK_H_MODE_SHIFT | try);
	if (ret < 0)
		return -1;
	if (result)
		*result = ret;
	return 0;
}

GLOCK_API int glock_handle_lock(struct glock_dev *dev, int handle,
				unsigned int mode, unsigned int *result)
{
	return handle_lock(dev, handle, mode, 0, result);
}

GLOCK_API int glock_handle_trylock(struct glock_dev *dev, int handle,
				   unsigned int mode, unsigned int *result)
{
	return handle_lock(dev, handle, mode, GLOCK_H_TRY, result);
}

GLOCK_API int glock_handle_unlock(struct glock_dev *dev, int handle)
{
	if (!dev) {
		errno = EINVAL;
		return -1;
	}
	return ioctl(dev->fd, GLOCK_IOC_HUNLOCK, (unsigned long)handle);
}

GLOCK_API int glock_handle_close(struct glock_dev *dev, int handle)
{
	if (!dev) {
		errno = EINVAL;
		return -1;
	}
	return ioctl(dev->fd, GLOCK_IOC_PUT_HANDLE, (unsigned long)handle);
}
