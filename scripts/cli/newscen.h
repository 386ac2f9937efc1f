/* chansim new NAME: a scenario skeleton that runs and passes (newscen.c). */
#ifndef CHANSIM_NEWSCEN_H
#define CHANSIM_NEWSCEN_H

/* The arguments after `new`; returns the exit status. */
int new_main(int argc, char **argv);

#endif
