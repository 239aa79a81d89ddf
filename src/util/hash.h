/*
 * hash: the one non-cryptographic hash of the project, 64-bit FNV-1a.
 * Stable across versions and machines (it is written into file names and
 * compared between runs), small, and good enough to tell apart names and
 * message headers; never used where an attacker could profit from
 * collisions.
 */
#ifndef TWINBOX_HASH_H
#define TWINBOX_HASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t hash_fnv1a64(const void *data, size_t len);

#endif
