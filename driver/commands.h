/* Subcommands of the groksweep executable. Each takes the arguments after
 * its name and returns the process exit status. */
#ifndef GROKSWEEP_COMMANDS_H
#define GROKSWEEP_COMMANDS_H

#include <stdbool.h>

#define EXIT_ENVIRONMENT 1 /* I/O or memory failure */
#define EXIT_BAD_INPUT 2   /* bad flags, config or file */
#define EXIT_INTERRUPTED 3 /* sweep stopped by a signal; run the same command to resume */

int command_train(int argc, char **argv);
int command_run(int argc, char **argv);
int command_validate(int argc, char **argv);
int command_report(int argc, char **argv);
int command_export(int argc, char **argv);
int command_merge(int argc, char **argv);
int command_ticket(int argc, char **argv);

/* One run of `groksweep train` (or `ticket`) as its flags ask for it. */
typedef struct {
    const char *config_path;
    const char *const *overrides; /* (n_overrides) "dotted.key=value", applied in order */
    int n_overrides;
    const char *curve_path;   /* --curve, or NULL */
    const char *weights_path; /* --save-weights, or NULL */
    bool verbose;
} TrainRequest;

/* Load, check and train the request's config, print its summary on stdout
 * and write the files it asks for; messages start "groksweep COMMAND:".
 * Returns the exit status: bad input (2) is found before anything is
 * written. */
int train_config(const char *command, const TrainRequest *request);

#endif
