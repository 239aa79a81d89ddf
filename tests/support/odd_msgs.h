/*
 * odd_msgs: messages as programs other than twinbox may write them (odd
 * line ends, no or folded Message-ID, no body, a header that ends at the
 * end of the message, one longer than any chunk a store reads), for the
 * tests that a header alone gives the hash of the whole message's
 * fingerprint, in every store.
 *
 * Contract: odd_msgs[0 .. ODD_MSGS) are constant C strings, none empty
 * (Dovecot refuses to store an empty message); odd_long_header() returns
 * a new string the caller frees.
 */
#ifndef TWINBOX_TEST_ODD_MSGS_H
#define TWINBOX_TEST_ODD_MSGS_H

#include <stddef.h>

#define ODD_MSGS 13
extern const char *const odd_msgs[ODD_MSGS];

/* A header of more than FP_HEADER_MAX bytes without a Message-ID. */
char *odd_long_header(void);

#endif
