/* watch: watch mode's loop, signals and reload; see watch.h. */
#include "watch_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compat.h"

/*
 * The watcher's clock counts the time the machine was suspended where the
 * platform can (compat.h), so that after a resume the IDLE refreshes that
 * fell due meanwhile run at once and find the dead connections.
 */
int64_t
watch_now(void)
{
	struct timespec ts;

	(void)tw_clock_with_suspend(&ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* xorshift64: jitter only, nothing secret. */
static uint64_t
next_random(struct watcher *w)
{
	w->rng ^= w->rng << 13;
	w->rng ^= w->rng >> 7;
	w->rng ^= w->rng << 17;
	return w->rng;
}

/* The next wait after a failure: doubled each time from
 * WATCH_BACKOFF_MIN_MS to WATCH_BACKOFF_MAX_MS, of which the second half
 * is random, so that many watchers do not come back at once. */
unsigned
watch_backoff(struct watcher *w, unsigned *last)
{
	unsigned d = *last == 0 ? WATCH_BACKOFF_MIN_MS : *last * 2;

	if (d > WATCH_BACKOFF_MAX_MS)
		d = WATCH_BACKOFF_MAX_MS;
	*last = d;
	return d / 2 + (unsigned)(next_random(w) % (d / 2 + 1));
}

/* Channels, the first full sync of each, then the sources. */
static int
watcher_start(struct watcher *w, const struct config *cfg)
{
	w->cfg = cfg;
	if (watch_targets(w, cfg) != 0) {
		watch_chans_free(w);
		return -1;
	}
	for (size_t i = 0; i < w->nchans; i++)
		watch_sync_full(w, i);
	if (!interrupted(w->o->run->stop))
		watch_sources_start(w);
	return 0;
}

static void
watcher_stop(struct watcher *w)
{
	watch_sources_stop(w);
	watch_chans_free(w);
}

/* SIGHUP: the new configuration, or the old one kept (and the watcher
 * started again on it: the sync the signal cut short is done again). */
static void
reload(struct watcher *w, struct config **cfg)
{
	struct watcher fresh = { .o = w->o, .lg = w->lg };
	struct config *next = NULL;

	log_info(w->lg, "watch: SIGHUP: reading the configuration again");
	if (w->o->reload(w->o->reload_ctx, &next) == 0 &&
	    watch_targets(&fresh, next) != 0) {
		config_free(next);
		next = NULL;
	}
	watch_chans_free(&fresh);
	watcher_stop(w);
	if (next == NULL)
		log_error(w->lg, "watch: keeping the configuration in use");
	else {
		config_free(*cfg);
		*cfg = next;
	}
	(void)watcher_start(w, *cfg);
}

/* Milliseconds to wait for: the nearest deadline, but at most
 * WATCH_WAKE_MAX_MS, since tw_ppoll()'s timeout does not run while the
 * machine is suspended; -1: no deadline at all. */
static int
wait_ms(const struct watcher *w, int ready)
{
	int64_t a = watch_chan_deadline(w), b = watch_src_deadline(w);
	int64_t t = a == 0 ? b : (b == 0 || a < b ? a : b), d;

	if (ready)
		return 0;
	if (t == 0)
		return -1;
	d = t - watch_now();
	return d < 0 ? 0 : d > WATCH_WAKE_MAX_MS ? WATCH_WAKE_MAX_MS : (int)d;
}

/*
 * Wait for an event or the nearest deadline. The signals are blocked
 * from the check of the flag until tw_ppoll() takes its mask, so one that
 * comes in between ends the wait at once instead of being missed.
 */
static int
wait_events(struct watcher *w, struct pollfd *fds, size_t *owner,
    size_t *n)
{
	sigset_t block, old;
	struct timespec ts, *tsp = NULL;
	int ready = 0, ms, rc;

	*n = watch_src_pollfds(w, fds, owner, &ready);
	ms = wait_ms(w, ready);
	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		tsp = &ts;
	}
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	rc = interrupted(w->o->signal) ? 0 : tw_ppoll(fds, *n, tsp, &old);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc < 0 && errno != EINTR) {
		log_error(w->lg, "watch: waiting for events: %s",
		    strerror(errno));
		return -1;
	}
	if (rc <= 0)
		for (size_t i = 0; i < *n; i++)
			fds[i].revents = 0;
	return 0;
}

static int
loop(struct watcher *w, struct config **cfg)
{
	struct pollfd *fds = NULL;
	size_t *owner = NULL, n;
	int sig, rc = 0;

	for (;;) {
		sig = interrupted(w->o->signal);
		/* Taken back only if still SIGHUP: a SIGTERM that came since
		 * is kept, and ends the loop at the next turn. */
		if (sig == SIGHUP) {
			if (atomic_compare_exchange_strong(w->o->signal, &sig,
			    0))
				reload(w, cfg);
			continue;
		}
		if (sig != 0)
			break;
		fds = xreallocarray(fds, watch_src_count(w), sizeof(*fds));
		owner = xreallocarray(owner, watch_src_count(w),
		    sizeof(*owner));
		if (wait_events(w, fds, owner, &n) != 0) {
			rc = 1;
			break;
		}
		watch_src_events(w, fds, owner, n);
		watch_src_timers(w, watch_now());
		watch_sync_due(w, watch_now());
	}
	free(fds);
	free(owner);
	return rc;
}

int
watch_run(struct config **cfg, const struct watch_opts *o)
{
	struct watcher w = { .o = o, .lg = o->run->lg };
	int rc;

	w.rng = (uint64_t)watch_now() * 2654435761u ^ (uint64_t)getpid();
	if (w.rng == 0)
		w.rng = 1;
	if (watcher_start(&w, *cfg) != 0)
		return 2;
	rc = loop(&w, cfg);
	watcher_stop(&w);
	if (rc == 0)
		log_info(w.lg, "watch: stopped by signal %d (%s)",
		    interrupted(o->signal), strsignal(interrupted(o->signal)));
	return rc;
}
