/* explore: `chansim explore` (see explore.c). */
#ifndef CHANSIM_EXPLORE_H
#define CHANSIM_EXPLORE_H

#include "runopts.h"

/* chansim explore, its options parsed: the exit status. */
int explore_main(const runopts_t *o);

#endif
