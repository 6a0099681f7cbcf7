// SPDX-License-Identifier: GPL-2.0-only
/* The raw ABI in 15 lines: take "demo" for 2 s, say if it was abandoned. */
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/glock.h>

int main(void)
{
	static const char name[] = "demo";
	struct glock_lock req = {
		.name = (uintptr_t)name, .name_len = sizeof(name) - 1,
		.mode = GLOCK_EXCLUSIVE, .timeout_ns = 5000000000LL, /* 5 s */
	};
	int fd = open("/dev/glock", O_RDWR | O_CLOEXEC);

	if (fd < 0 || ioctl(fd, GLOCK_IOC_LOCK, &req) < 0) {
		perror("glock");
		return 1;
	}
	printf("got it%s\n", req.result & GLOCK_R_ABANDONED ?
	       " (the previous holder died holding it)" : "");
	sleep(2);		/* the critical section */
	req.timeout_ns = 0;	/* UNLOCK takes mode 0 or the held mode, no timeout */
	ioctl(fd, GLOCK_IOC_UNLOCK, &req);
	close(fd);		/* would release it anyway, even on a crash */
	return 0;
}
