/* channel_adopt: mbsync's state files of a pair; see channel_adopt.h. */
#include "channel_adopt.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "imap/utf7.h"
#include "sync/mbsync_state.h"

static void
add_spelling(struct mbsync_where *w, const char *far_box,
    const char *near_box, struct strlist *out)
{
	w->far_box = far_box;
	w->near_box = near_box;
	mbsync_state_candidates(w, out);
}

void
channel_mbsync_states(const struct config *cfg,
    const struct channel_conf *ch, struct store *near,
    char *const box[2], const char *home, const char *xdg_state_home,
    struct strlist *out)
{
	struct mbsync_where w = { 0 };
	struct buf utf7[2] = { BUF_INIT, BUF_INIT }, err = BUF_INIT;
	char *near_dir = NULL;
	int encoded = 1;

	w.sync_state = ch->sync_state ? ch->sync_state : cfg->sync_state;
	w.from_channel = ch->sync_state != NULL;
	w.delimiter = cfg->field_delimiter;
	w.far_store = ch->end[SIDE_FAR].store_name;
	w.near_store = ch->end[SIDE_NEAR].store_name;
	w.home = home;
	w.xdg_state_home = xdg_state_home;
	/* The folder as the store lays it out (Flatten, MapInbox), as for
	 * twinbox's own state (channel.c). */
	if (near->ops->local_dir != NULL &&
	    near->ops->local_dir(near, box[SIDE_NEAR], &near_dir, &err) == 0)
		w.near_dir = near_dir;
	for (int s = 0; s < 2; s++)
		if (imap_utf7_encode(box[s], &utf7[s], &err) != 0)
			encoded = 0;
	if (encoded)
		add_spelling(&w, utf7[SIDE_FAR].data, utf7[SIDE_NEAR].data,
		    out);
	add_spelling(&w, box[SIDE_FAR], box[SIDE_NEAR], out);
	free(near_dir);
	buf_free(&utf7[0]);
	buf_free(&utf7[1]);
	buf_free(&err);
}

int
channel_mbsync_known(const struct strlist *candidates)
{
	struct stat sb;

	for (size_t i = 0; i < candidates->n; i++)
		if (stat(candidates->v[i], &sb) == 0)
			return 1;
	return 0;
}
