// SPDX-License-Identifier: LGPL-2.1-or-later
/* libglock: the C library over the /dev/glock ioctls (see glock.h). */
#include <errno.h>
#include <fcntl.h>
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
		return "too many locks (per-owner or global limit)";
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "no such device: is glock.ko loaded?";
	case ENOTTY:
		return "not a " GLOCK_DEVICE " descriptor";
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
