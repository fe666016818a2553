/* `groksweep train CONFIG.json [--set key=value ...] [--curve FILE] [--save-weights FILE] [--verbose]` */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "summary.h"
#include "train.h"
#include "weights_file.h"

static void print_train_help(FILE *out) {
    fprintf(out,
            "usage: groksweep train CONFIG.json [--set key=value ...] [--curve FILE] [--save-weights FILE]\n"
            "                       [--verbose]\n"
            "\n"
            "Train one grid point on one CPU core and print a JSON summary on stdout:\n"
            "status (done | diverged), phase, train_acc_step and test_acc_step (first\n"
            "evaluation step at which accuracy reached 0.5, 0.9, 0.95, 0.99; -1 = never),\n"
            "final metrics, steps_run, wall_seconds, ms_per_step, seeds, BLAS kernel and\n"
            "the resolved config.\n"
            "\n"
            "options:\n"
            "  --set key=value  override one config key by its dotted path, e.g.\n"
            "                   --set optimizer.weight_decay=0 --set model.activation=relu;\n"
            "                   the value is read as JSON, else as a string; repeatable\n"
            "  --curve FILE     also write the learning curve as CSV: step, train_loss,\n"
            "                   test_loss, train_acc, test_acc, weight_norm (and feature_rank_1\n"
            "                   .. _L with train.feature_rank)\n"
            "  --save-weights FILE\n"
            "                   also write the run's initial and final weights (HDF5; the\n"
            "                   input of groksweep ticket and of ticket.weights)\n"
            "  --verbose        print every evaluation to stderr as training runs\n"
            "  --help           this text\n"
            "\n"
            "A loss that becomes NaN or infinite ends the run with status \"diverged\":\n"
            "a result, exit status 0. Bad input exits with status 2.\n"
            "\n"
            "Config keys (JSON object; every key optional, defaults shown):\n");
    config_help(out);
}

static void print_eval(const EvalPoint *e, void *context) {
    (void)context;
    fprintf(stderr, "step %7d  train loss %.4e acc %.4f  test loss %.4e acc %.4f  |w| %.3f\n", e->step,
            e->train_loss, e->train_acc, e->test_loss, e->test_acc, e->weight_norm);
}

int train_config(const char *command, const TrainRequest *request) {
    RunConfig cfg;
    char err[1024];
    if (config_load(&cfg, request->config_path, request->overrides, request->n_overrides, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep %s: %s\n", command, err);
        return EXIT_BAD_INPUT;
    }
    /* The data files and the ticket's weights file, before anything is written. */
    if (task_check(&cfg.task, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep %s: %s: %s\n", command, request->config_path, err);
        return EXIT_BAD_INPUT;
    }
    if (ticket_check_source(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "groksweep %s: %s\n", command, err);
        return EXIT_BAD_INPUT;
    }
    /* Open the output files before training, so a bad path fails fast. */
    FILE *curve = NULL, *weights_probe = NULL;
    const char *curve_path = request->curve_path, *weights_path = request->weights_path;
    if (curve_path && !(curve = fopen(curve_path, "w"))) {
        fprintf(stderr, "groksweep %s: --curve %s: cannot open for writing: %s\n", command, curve_path,
                strerror(errno));
        return EXIT_BAD_INPUT;
    }
    if (weights_path && !(weights_probe = fopen(weights_path, "wb"))) {
        fprintf(stderr, "groksweep %s: --save-weights %s: cannot open for writing: %s\n", command, weights_path,
                strerror(errno));
        if (curve) fclose(curve);
        if (curve_path) remove(curve_path);
        return EXIT_BAD_INPUT;
    }
    if (weights_probe) fclose(weights_probe);

    blas_use_one_thread();
    RunResult result;
    RunWeights weights;
    RunHooks hooks = {.on_eval = print_eval};
    if (train_run_keep_weights(&cfg, &result, request->verbose ? &hooks : NULL, weights_path ? &weights : NULL, err,
                               sizeof err) != 0) {
        fprintf(stderr, "groksweep %s: %s\n", command, err);
        if (curve) fclose(curve);
        if (weights_path) remove(weights_path);
        return EXIT_ENVIRONMENT;
    }
    int exit_status = 0;
    if (curve) {
        if (write_curve_csv(curve, &result) != 0 || fclose(curve) != 0) {
            fprintf(stderr, "groksweep %s: --curve %s: write failed: %s\n", command, curve_path, strerror(errno));
            exit_status = EXIT_ENVIRONMENT;
        }
    }
    char *summary = run_summary_json(&cfg, &result);
    run_result_free(&result);
    if (weights_path) {
        char *config_json = config_to_json(&cfg);
        if (!config_json || weights_file_write(weights_path, &weights, config_json, err, sizeof err) != 0) {
            fprintf(stderr, "groksweep %s: --save-weights %s\n", command,
                    config_json ? err : "out of memory writing the weights file");
            remove(weights_path);
            exit_status = EXIT_ENVIRONMENT;
        }
        free(config_json);
        run_weights_free(&weights);
    }
    if (!summary) {
        fprintf(stderr, "groksweep %s: out of memory writing the summary\n", command);
        return EXIT_ENVIRONMENT;
    }
    puts(summary);
    free(summary);
    return exit_status;
}

int command_train(int argc, char **argv) {
    const char *config_path = NULL, *curve_path = NULL, *weights_path = NULL;
    bool verbose = false;
    const char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    int n_overrides = 0;
    if (!overrides) return EXIT_ENVIRONMENT;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_train_help(stdout);
            free(overrides);
            return 0;
        } else if (strcmp(arg, "--set") == 0 || strcmp(arg, "--curve") == 0 || strcmp(arg, "--save-weights") == 0) {
            bool set = strcmp(arg, "--set") == 0;
            if (i + 1 >= argc) {
                fprintf(stderr, "groksweep train: %s needs a value (%s)\n", arg, set ? "key=value" : "a file path");
                free(overrides);
                return EXIT_BAD_INPUT;
            }
            if (set)
                overrides[n_overrides++] = argv[++i];
            else if (strcmp(arg, "--curve") == 0)
                curve_path = argv[++i];
            else
                weights_path = argv[++i];
        } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            verbose = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr,
                    "groksweep train: unknown option %s (allowed: --set, --curve, --save-weights, --verbose, --help)\n",
                    arg);
            free(overrides);
            return EXIT_BAD_INPUT;
        } else if (config_path) {
            fprintf(stderr, "groksweep train: one CONFIG.json expected, got a second: %s\n", arg);
            free(overrides);
            return EXIT_BAD_INPUT;
        } else {
            config_path = arg;
        }
    }
    if (!config_path) {
        fprintf(stderr, "groksweep train: missing CONFIG.json (see groksweep train --help)\n");
        free(overrides);
        return EXIT_BAD_INPUT;
    }

    TrainRequest request = {config_path, overrides, n_overrides, curve_path, weights_path, verbose};
    int status = train_config("train", &request);
    free(overrides);
    return status;
}
