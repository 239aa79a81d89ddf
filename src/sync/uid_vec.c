/* uid_vec: the growable array of UIDs; see struct uid_vec in plan.h. */
#include "sync/plan.h"

void
uid_vec_push(struct uid_vec *v, uint32_t uid)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->v = xreallocarray(v->v, v->cap, sizeof(*v->v));
	}
	v->v[v->n++] = uid;
}
