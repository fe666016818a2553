/* groksweep: command-line entry point and subcommand dispatch.
 *
 * Exit status: 0 success; 1 environment failure (I/O, memory);
 * 2 bad input (flags, config, unreadable file). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "output.h"

#ifndef GROKSWEEP_VERSION
#define GROKSWEEP_VERSION "unknown"
#endif

static void print_usage(FILE *out) {
    fprintf(out,
            "groksweep %s: map the grokking phase diagram of small networks\n"
            "\n"
            "usage: groksweep <command> [arguments]\n"
            "\n"
            "commands:\n"
            "  train CONFIG.json [--set key=value ...] [--curve FILE] [--save-weights FILE] [--verbose]\n"
            "        train one grid point and print a JSON summary on stdout\n"
            "  ticket WEIGHTS.h5 CONFIG.json --kept-fraction F [train's options]\n"
            "        train the lottery ticket of a run saved with --save-weights\n"
            "  run SWEEP.json -o OUT.h5 [--ranks N] [--force] [--quiet]\n"
            "        train every point of a sweep into one HDF5 file (under mpirun or srun:\n"
            "        one rank per core; rank 0 drives and trains); resumable\n"
            "  validate SWEEP.json\n"
            "        check a sweep file, show its grid and estimate its cost\n"
            "  report OUT.h5 [--rows AXIS] [--cols AXIS] [--no-color]\n"
            "        summarize a sweep's output with terminal phase maps (also while it runs)\n"
            "  export OUT.h5 [-o FILE] [--format csv|json] [--curves]\n"
            "        write the output as one table: a row per point (or per point and step)\n"
            "  merge A.h5 B.h5 [...] -o OUT.h5\n"
            "        one output over the union of the grids of sweeps of one config\n"
            "\n"
            "  groksweep <command> --help   documents a command and every config key\n"
            "  groksweep --version          prints the version\n"
            "\n"
            "exit status: 0 success, 1 environment failure (I/O, memory, MPI), 2 bad input,\n"
            "3 sweep interrupted (run the same command again to resume)\n",
            GROKSWEEP_VERSION);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_BAD_INPUT;
    }
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 || strcmp(command, "help") == 0) {
        print_usage(stdout);
        return 0;
    }
    if (strcmp(command, "--version") == 0) {
        printf("groksweep %s\n", GROKSWEEP_VERSION);
        return 0;
    }
    int (*run)(int, char **) = strcmp(command, "train") == 0      ? command_train
                               : strcmp(command, "run") == 0      ? command_run
                               : strcmp(command, "validate") == 0 ? command_validate
                               : strcmp(command, "report") == 0   ? command_report
                               : strcmp(command, "export") == 0   ? command_export
                               : strcmp(command, "merge") == 0    ? command_merge
                               : strcmp(command, "ticket") == 0   ? command_ticket
                                                                  : NULL;
    if (run) {
        int status = run(argc - 2, argv + 2);
        if (output_library_damaged()) { /* HDF5's exit-time shutdown would crash on the file it holds */
            fflush(stdout);
            _exit(status);
        }
        return status;
    }
    fprintf(stderr,
            "groksweep: unknown command \"%s\" (allowed: train, run, validate, report; see groksweep --help)\n",
            command);
    return EXIT_BAD_INPUT;
}
