/*
 * Work that must not run on the event loop because the kernel makes the
 * caller wait (deleting a link waits for an RCU grace period: ~20 ms), yet
 * is too small to be worth a child process (spawning `ip` costs ~10 ms):
 * it runs on a thread of its own, and its completion comes back to the
 * loop through an eventfd.
 */
#ifndef LIBRETTOD_THREAD_JOB_H
#define LIBRETTOD_THREAD_JOB_H

struct event_base;

/* work(arg) runs on a new thread; then finished(arg) runs on the loop.
 * work must touch nothing the loop uses. -1 with errno when the thread
 * cannot start (finished is then never called). */
int thread_job_run(struct event_base *base, void (*work)(void *arg),
		   void (*finished)(void *arg), void *arg);

#endif
