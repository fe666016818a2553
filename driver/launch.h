/* `groksweep run --ranks N`: start the ranks with mpiexec, relaying stop
 * signals so that an interrupted sweep ends with exit status 3. */
#ifndef GROKSWEEP_LAUNCH_H
#define GROKSWEEP_LAUNCH_H

/* The MPI launcher when GROKSWEEP_MPIEXEC is not set: the build's. */
#ifndef GROKSWEEP_MPIEXEC
#define GROKSWEEP_MPIEXEC "mpiexec"
#endif

/* More ranks than any one launch starts. */
#define LAUNCH_MAX_RANKS 1000000

/* Read the value of `flag` (--ranks) into *n_ranks: 0; or an exit status
 * after printing the problem (not an integer in 1..LAUNCH_MAX_RANKS, or this
 * process is already a rank). value may be NULL (missing). */
int launch_parse_ranks(const char *flag, const char *value, int *n_ranks);

/* Run `MPIEXEC -n n_ranks <this executable> run argv...` (MPIEXEC from
 * GROKSWEEP_MPIEXEC, else the launcher found at build time, split at
 * spaces) and wait for it. SIGINT, SIGTERM, SIGHUP and SIGUSR1 sent here
 * reach it as SIGUSR1. Returns its exit status (128 + the signal if one
 * killed it), or 1 / 2 when it could not be started. Call before MPI_Init. */
int launch_ranks(int n_ranks, int argc, char **argv);

#endif
