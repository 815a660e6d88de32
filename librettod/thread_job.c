#include "thread_job.h"

#include <errno.h>
#include <event2/event.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct thread_job {
	pthread_t thread;
	int efd;
	struct event *ev;
	void (*work)(void *);
	void (*finished)(void *);
	void *arg;
};

static void *job_main(void *p)
{
	struct thread_job *job = p;
	uint64_t one = 1;

	job->work(job->arg);
	/* An eventfd write of 1 cannot fail short of a bug. */
	while (write(job->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	return NULL;
}

static void job_done(evutil_socket_t fd, short what, void *p)
{
	struct thread_job *job = p;

	(void)fd;
	(void)what;
	pthread_join(job->thread, NULL);
	event_free(job->ev);
	close(job->efd);
	job->finished(job->arg);
	free(job);
}

int thread_job_run(struct event_base *base, void (*work)(void *arg),
		   void (*finished)(void *arg), void *arg)
{
	struct thread_job *job = calloc(1, sizeof(*job));
	int err;

	if (job == NULL)
		return -1;
	job->work = work;
	job->finished = finished;
	job->arg = arg;
	job->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (job->efd < 0)
		goto fail;
	job->ev = event_new(base, job->efd, EV_READ, job_done, job);
	if (job->ev == NULL || event_add(job->ev, NULL) < 0)
		goto fail;
	err = pthread_create(&job->thread, NULL, job_main, job);
	if (err != 0) {
		errno = err;
		goto fail;
	}
	return 0;
fail:
	err = errno;
	if (job->ev != NULL)
		event_free(job->ev);
	if (job->efd >= 0)
		close(job->efd);
	free(job);
	errno = err;
	return -1;
}
