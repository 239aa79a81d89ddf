/*
 * channel_workers: a channel's mailbox syncs on a few threads at once, so
 * that on a slow link one mailbox's round trips overlap another's.
 *
 * The jobs (indexes 0 .. njobs-1) are handed out in order from one shared
 * counter to up to nworkers threads; each thread takes the next job when
 * it has finished its last one, or a little before (workers_take()).
 * What a job does, and which stores a worker holds, is the caller's
 * (channel.c): the callbacks get the worker's number and are called on
 * that worker's thread only, so a worker's stores, counters and buffers
 * are touched by one thread.
 *
 * Contract:
 *  - ops->start(ctx, w, stop) prepares worker w; when it fails (-1) the
 *    worker takes no job. Its waits (opening a connection) end early once
 *    *stop is set: stop is the worker's own flag, set when the run's is,
 *    and also as soon as the last job is taken, for no job is left for
 *    it then, so that a server slow to accept or answer one more
 *    connection never holds up the run (the run's own flag on the
 *    calling thread). A worker whose thread begins when no job is left
 *    is not started. ops->finish(ctx, w) is called once for every
 *    worker, whether start succeeded, failed or was not called, on its
 *    thread, after its last job.
 *  - ops->run(ctx, w, job, crew) returns WORKER_GO_ON to take the next job,
 *    WORKER_RETIRE when this worker can take none (its connection is
 *    lost: the jobs left go to the others), WORKER_STOP_ALL when no job
 *    must start any more (a fatal failure).
 *  - Once *stop is set (interrupt.h), no job starts. SIGINT, SIGTERM and
 *    SIGHUP are blocked in the workers and received by the calling
 *    thread, which then wakes every worker out of its network wait with a
 *    signal of its own (a handler that does nothing, installed for the
 *    call and restored after): each stops at its next durable point, as
 *    the single-threaded run does.
 *  - workers_run() returns when every worker has finished, with the
 *    number of jobs that no worker took (0 when all ran). When no thread
 *    can be started the jobs run on the calling thread as worker 0.
 *  - Shared by the workers, and so made safe for threads: the logger
 *    (struct logger.lock), the store pool (store_pool.h), the crash point
 *    (sync/crash.h) and the interrupt flag (only read).
 */
#ifndef TWINBOX_CHANNEL_WORKERS_H
#define TWINBOX_CHANNEL_WORKERS_H

#include <stddef.h>

#include "config/config.h"
#include "interrupt.h"
#include "util/log.h"

enum worker_next {
	WORKER_GO_ON,		/* take the next job */
	WORKER_RETIRE,		/* this worker takes no more jobs */
	WORKER_STOP_ALL		/* no job starts any more */
};

struct worker_crew;

struct worker_ops {
	int (*start)(void *ctx, size_t w, const interrupt_flag *stop);
	enum worker_next (*run)(void *ctx, size_t w, size_t job,
	    struct worker_crew *crew);
	void (*finish)(void *ctx, size_t w);
};

/*
 * Called inside ops->run() on its worker's thread: takes the next job now,
 * as the worker would after run() returns (so that its start overlaps the
 * end of this one); 1 with *job set, 0 when none is left or none may
 * start (*stop set, WORKER_STOP_ALL returned). A job taken is the
 * caller's to run before run() returns, like the one it was given.
 */
int workers_take(struct worker_crew *crew, size_t *job);

/*
 * How many workers a channel may use: the smallest Connections of its
 * IMAP ends' accounts (halved, rounded down, at least 1, when both ends
 * use one account: each worker holds a connection at both), 1 without an
 * IMAP end, and 1 when every login would ask for the password on the
 * terminal (no Pass and no PassCmd): one prompt is all a user should see.
 * (A UserCmd or PassCmd, even written "+command", runs once for all the
 * account's connections: imap/secret.h.)
 */
size_t channel_worker_count(const struct channel_conf *ch);

size_t workers_run(size_t nworkers, size_t njobs, const struct worker_ops *ops,
    void *ctx, const interrupt_flag *stop, const struct logger *lg);

#endif
