/* uid_vec: the growable array of UIDs; see struct uid_vec in plan.h. */
#include "sync/plan.h"

void
uid_vec_push(struct uid_vec *v, uint32_t uid)
{
	v->v = xgrow(v->v, &v->cap, v->n + 1, 64, sizeof(*v->v));
	v->v[v->n++] = uid;
}
