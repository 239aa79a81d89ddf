/* channel_workers: a channel's mailbox syncs on a few threads; see
 * channel_workers.h. */
#include "channel_workers.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "compat.h"
#include "util/buf.h"

struct worker;

/* What the workers share. */
struct worker_crew {
	pthread_mutex_t lock;		/* next, halted, every starting */
	size_t next, njobs;
	int halted;			/* WORKER_STOP_ALL was returned */
	const struct worker_ops *ops;
	void *ctx;
	const interrupt_flag *stop;
	const struct logger *lg;
	int done[2];			/* a worker writes a byte when it ends */
	struct worker *wk;		/* the threads, NULL without */
	size_t nwk;
};

struct worker {
	struct worker_crew *c;
	size_t w;
	pthread_t t;
	int starting;			/* in ops->start() */
	interrupt_flag give_up;		/* its start's stop: set with the
					   run's flag, or once no job is left */
};

/* The signal that wakes a worker out of poll(): the handler does nothing,
 * the wait fails with EINTR and sees the interrupt flag. */
#define WAKE_SIGNAL SIGURG	/* ignored by default: a stray one is
				   harmless before and after */

/* Every login of this account asks the user for the password on the
 * terminal. (A UserCmd or PassCmd, even written "+command", runs once
 * for all the account's connections: imap/secret.h.) */
static int
asks_user(const struct imap_account_conf *a)
{
	return a->pass == NULL && a->pass_cmd == NULL;
}

size_t
channel_worker_count(const struct channel_conf *ch)
{
	const struct imap_account_conf *a[2] = { NULL, NULL };
	size_t n = 0, c;

	for (int s = 0; s < 2; s++)
		if (ch->end[s].store->kind == STORE_IMAP)
			a[s] = ch->end[s].store->account;
	for (int s = 0; s < 2; s++) {
		if (a[s] == NULL)
			continue;
		if (asks_user(a[s]))
			return 1;
		c = (size_t)a[s]->connections;
		if (a[0] == a[1])
			c /= 2;
		if (n == 0 || c < n)
			n = c;
	}
	return n > 0 ? n : 1;
}

static void
on_wake(int sig)
{
	(void)sig;
}

/* Wake worker wk out of its network wait, its own flag set to why.
 * Called with the lock held. */
static void
wake(struct worker *wk, int why)
{
	atomic_store(&wk->give_up, why);
	pthread_kill(wk->t, WAKE_SIGNAL);
}

int
workers_take(struct worker_crew *c, size_t *job)
{
	int ok;

	pthread_mutex_lock(&c->lock);
	ok = !c->halted && c->next < c->njobs && !interrupted(c->stop);
	if (ok)
		*job = c->next++;
	/* The last job is taken: a worker still opening its connection
	 * would find none, so it need not wait for its server any more. */
	for (size_t i = 0; ok && c->next == c->njobs && i < c->nwk; i++)
		if (c->wk[i].starting)
			wake(&c->wk[i], WAKE_SIGNAL);
	pthread_mutex_unlock(&c->lock);
	return ok;
}

/* Worker w's start, with stop as its flag; 0 if it may take jobs. A
 * thread that starts when no job is left does not start. */
static int
start(struct worker_crew *c, size_t w, struct worker *wk)
{
	int rc, left;

	if (wk == NULL)
		return c->ops->start(c->ctx, w, c->stop);
	pthread_mutex_lock(&c->lock);
	left = c->next < c->njobs;
	wk->starting = left;
	pthread_mutex_unlock(&c->lock);
	if (!left)
		return -1;
	rc = c->ops->start(c->ctx, w, &wk->give_up);
	pthread_mutex_lock(&c->lock);
	wk->starting = 0;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void
work(struct worker_crew *c, size_t w, struct worker *wk)
{
	enum worker_next n;
	size_t job;

	if (start(c, w, wk) == 0) {
		while (workers_take(c, &job)) {
			n = c->ops->run(c->ctx, w, job, c);
			if (n == WORKER_STOP_ALL) {
				pthread_mutex_lock(&c->lock);
				c->halted = 1;
				pthread_mutex_unlock(&c->lock);
			}
			if (n != WORKER_GO_ON)
				break;
		}
	}
	c->ops->finish(c->ctx, w);
}

static void *
worker_main(void *arg)
{
	struct worker *wk = arg;
	ssize_t r;

	work(wk->c, wk->w, wk);
	/* A pipe of this size never holds back one byte of each worker. */
	do
		r = write(wk->c->done[1], "", 1);
	while (r < 0 && errno == EINTR);
	return NULL;
}

/* Wait for the started workers to end; wake them once the flag is set.
 * old is the mask to wait with: the stop signals unblocked. */
static void
wait_workers(struct worker_crew *c, struct worker *wk, size_t started,
    const sigset_t *old)
{
	size_t live = started;
	int woken = 0;
	char bytes[64];
	fd_set rd;
	ssize_t n;

	while (live > 0) {
		if (!woken && interrupted(c->stop)) {
			pthread_mutex_lock(&c->lock);
			for (size_t i = 0; i < started; i++)
				wake(&wk[i], interrupted(c->stop));
			pthread_mutex_unlock(&c->lock);
			woken = 1;
		}
		FD_ZERO(&rd);
		FD_SET(c->done[0], &rd);
		if (pselect(c->done[0] + 1, &rd, NULL, NULL, NULL, old) < 0) {
			if (errno == EINTR)
				continue;
			return;	/* the joins wait instead */
		}
		n = read(c->done[0], bytes, sizeof(bytes));
		if (n > 0)
			live -= (size_t)n < live ? (size_t)n : live;
	}
}

/* Start the threads (they inherit the caller's mask, the stop signals
 * blocked); how many did start. */
static size_t
start_workers(struct worker_crew *c, struct worker *wk, size_t n)
{
	size_t i;
	int e = 0;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < n; i++) {
		wk[i].c = c;
		wk[i].w = i;
		atomic_init(&wk[i].give_up, 0);
		e = pthread_create(&wk[i].t, NULL, worker_main, &wk[i]);
		if (e != 0)
			break;
		c->nwk = i + 1;
	}
	pthread_mutex_unlock(&c->lock);
	if (i < n)
		log_warn(c->lg, "cannot start a thread to sync a mailbox (%s); "
		    "syncing with %zu instead of %zu", strerror(e),
		    i > 0 ? i : 1, n);
	return i;
}

static int
open_pipe(int fd[2], const struct logger *lg)
{
	if (tw_pipe(fd, O_CLOEXEC) == 0)
		return 0;
	log_warn(lg, "cannot make a pipe for the threads that sync mailboxes "
	    "(%s); syncing them one after another", strerror(errno));
	return -1;
}

static void
run_threads(struct worker_crew *c, size_t nworkers)
{
	struct worker *wk = xcalloc(nworkers, sizeof(*wk));
	struct sigaction wake, old_wake;
	sigset_t stops, old;
	size_t started;
	int can_wake;

	memset(&wake, 0, sizeof(wake));
	wake.sa_handler = on_wake;
	sigemptyset(&wake.sa_mask);
	/* Without it a signal still stops the workers, at the end of their
	   network waits instead of at once. */
	can_wake = sigaction(WAKE_SIGNAL, &wake, &old_wake) == 0;
	if (!can_wake)
		log_warn(c->lg, "sigaction(%s): %s; a signal stops the threads "
		    "that sync mailboxes only when their server answers",
		    strsignal(WAKE_SIGNAL), strerror(errno));
	sigemptyset(&stops);
	sigaddset(&stops, SIGINT);
	sigaddset(&stops, SIGTERM);
	sigaddset(&stops, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stops, &old);
	c->wk = wk;
	started = start_workers(c, wk, nworkers);
	if (started > 0)
		wait_workers(c, wk, started, &old);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (size_t i = 0; i < started; i++)
		pthread_join(wk[i].t, NULL);
	if (started == 0)
		work(c, 0, NULL);
	if (can_wake)
		sigaction(WAKE_SIGNAL, &old_wake, NULL);
	free(wk);
}

size_t
workers_run(size_t nworkers, size_t njobs, const struct worker_ops *ops,
    void *ctx, const interrupt_flag *stop, const struct logger *lg)
{
	struct worker_crew c = { .njobs = njobs, .ops = ops, .ctx = ctx,
	    .stop = stop, .lg = lg, .done = { -1, -1 } };

	if (njobs == 0)
		return 0;
	pthread_mutex_init(&c.lock, NULL);
	if (nworkers > njobs)
		nworkers = njobs;
	if (nworkers <= 1 || open_pipe(c.done, lg) != 0)
		work(&c, 0, NULL);
	else
		run_threads(&c, nworkers);
	for (int i = 0; i < 2; i++)
		if (c.done[i] >= 0)
			close(c.done[i]);
	pthread_mutex_destroy(&c.lock);
	return c.njobs - c.next;
}
