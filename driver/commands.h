/* Subcommands of the groksweep executable. Each takes the arguments after
 * its name and returns the process exit status. */
#ifndef GROKSWEEP_COMMANDS_H
#define GROKSWEEP_COMMANDS_H

#define EXIT_ENVIRONMENT 1 /* I/O or memory failure */
#define EXIT_BAD_INPUT 2   /* bad flags, config or file */
#define EXIT_INTERRUPTED 3 /* sweep stopped by a signal; run the same command to resume */

int command_train(int argc, char **argv);
int command_run(int argc, char **argv);
int command_validate(int argc, char **argv);
int command_report(int argc, char **argv);
int command_export(int argc, char **argv);
int command_merge(int argc, char **argv);

#endif
