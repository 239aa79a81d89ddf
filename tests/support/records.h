/*
 * records: journal record builders for tests of the state and the sync
 * core, so that a test reads like the journal it writes, and apply_ok(),
 * which applies one and fails the current test if state_apply() refuses.
 */
#ifndef TWINBOX_TEST_RECORDS_H
#define TWINBOX_TEST_RECORDS_H

#include <stdint.h>

#include "sync/state.h"

/* uidvalidity / maxuid / highestmodseq of one side. */
struct journal_rec r_header(enum journal_kind kind, enum side side,
    uint64_t value);
/* A pair record of any pair kind (new, flags, status, forget). */
struct journal_rec r_pair(enum journal_kind kind, uint32_t far, uint32_t near,
    unsigned flags, unsigned status);
struct journal_rec r_copy(enum side src, uint32_t uid, unsigned flags,
    uint32_t planned, uint32_t uidnext, uint64_t size, uint64_t hash);
/* JR_COPY_DONE (with its target) or JR_COPY_ABORT. */
struct journal_rec r_done(enum journal_kind kind, enum side src, uint32_t uid,
    uint32_t target);
struct journal_rec r_settled(enum side side, uint32_t uidnext,
    uint64_t modseq);

void apply_ok(struct sync_state *st, struct journal_rec r);

#endif
