/* Subcommands of the groksweep executable. Each takes the arguments after
 * its name and returns the process exit status. */
#ifndef GROKSWEEP_COMMANDS_H
#define GROKSWEEP_COMMANDS_H

#define EXIT_ENVIRONMENT 1 /* I/O or memory failure */
#define EXIT_BAD_INPUT 2   /* bad flags, config or file */

int command_train(int argc, char **argv);

#endif
