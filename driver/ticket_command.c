/* `groksweep ticket WEIGHTS.h5 CONFIG.json --kept-fraction F [train's options]`: train the lottery ticket
 * of a saved run, the config's ticket section set from the flags. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "commands.h"

static void print_ticket_help(FILE *out) {
    fprintf(out,
            "usage: groksweep ticket WEIGHTS.h5 CONFIG.json --kept-fraction F [--control ticket|norm_matched]\n"
            "                        [--set key=value ...] [--curve FILE] [--save-weights FILE] [--verbose]\n"
            "\n"
            "Train the lottery ticket (Minegishi et al. 2024) of the run saved in WEIGHTS.h5\n"
            "(groksweep train --save-weights): its final weight and embedding matrices pruned\n"
            "globally by magnitude to the fraction F kept, the kept weights rewound to the\n"
            "file's initial ones and trained with CONFIG.json, the pruned ones held at zero.\n"
            "The same as groksweep train CONFIG.json with ticket.source = \"file\",\n"
            "ticket.weights = WEIGHTS.h5 and ticket.kept_fraction = F. The file must hold a\n"
            "model of CONFIG.json's shape.\n"
            "\n"
            "options:\n"
            "  --kept-fraction F  fraction of the weights kept, in (0, 1]; 1 trains the dense\n"
            "                     network of CONFIG.json\n"
            "  --control C        ticket (the default), or norm_matched: the dense network with\n"
            "                     the file's initial weights scaled to the ticket's initial L2 norm\n"
            "  --set, --curve, --save-weights, --verbose  as for groksweep train\n"
            "  --help             this text\n"
            "\n"
            "Bad input (flags, config, a weights file of another model) exits with status 2.\n"
            "Every config key: groksweep train --help.\n");
}

/* "key=value_json" in a malloc'd string; NULL if memory runs out. */
static char *override_text(const char *key, const char *value_json) {
    char *override = malloc(strlen(key) + strlen(value_json) + 2);
    if (override) sprintf(override, "%s=%s", key, value_json);
    return override;
}

/* "key=value" with value the JSON text of the string text (quoted and
 * escaped, so that a path is never read as a number); NULL if memory runs
 * out. */
static char *string_override(const char *key, const char *text) {
    cJSON *value = cJSON_CreateString(text);
    char *json = value ? cJSON_PrintUnformatted(value) : NULL;
    cJSON_Delete(value);
    char *override = json ? override_text(key, json) : NULL;
    free(json);
    return override;
}

int command_ticket(int argc, char **argv) {
    const char *positional[2] = {NULL, NULL}, *kept_text = NULL, *control = NULL;
    TrainRequest request = {0};
    int n_positional = 0, status = EXIT_BAD_INPUT;
    const char **overrides = calloc((size_t)argc + 4, sizeof *overrides);
    char *source_override = NULL, *weights_override = NULL, *kept_override = NULL, *control_override = NULL;
    if (!overrides) return EXIT_ENVIRONMENT;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        static const char *const valued[] = {"--set", "--curve", "--save-weights", "--kept-fraction", "--control"};
        int flag = -1;
        for (int f = 0; f < 5; f++)
            if (strcmp(arg, valued[f]) == 0) flag = f;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            print_ticket_help(stdout);
            status = 0;
            goto done;
        } else if (flag >= 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "groksweep ticket: %s needs a value (%s)\n", arg,
                        flag == 0   ? "key=value"
                        : flag == 3 ? "a number in (0, 1]"
                        : flag == 4 ? "ticket or norm_matched"
                                    : "a file path");
                goto done;
            }
            const char *value = argv[++i];
            if (flag == 0) overrides[request.n_overrides++] = value;
            if (flag == 1) request.curve_path = value;
            if (flag == 2) request.weights_path = value;
            if (flag == 3) kept_text = value;
            if (flag == 4) control = value;
        } else if (strcmp(arg, "--verbose") == 0 || strcmp(arg, "-v") == 0) {
            request.verbose = true;
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr,
                    "groksweep ticket: unknown option %s (allowed: --kept-fraction, --control, --set, --curve, "
                    "--save-weights, --verbose, --help)\n",
                    arg);
            goto done;
        } else if (n_positional == 2) {
            fprintf(stderr, "groksweep ticket: WEIGHTS.h5 and CONFIG.json expected, got a third argument: %s\n", arg);
            goto done;
        } else {
            positional[n_positional++] = arg;
        }
    }
    if (n_positional < 2) {
        fprintf(stderr, "groksweep ticket: missing %s (usage: groksweep ticket WEIGHTS.h5 CONFIG.json "
                "--kept-fraction F)\n", n_positional == 0 ? "WEIGHTS.h5 and CONFIG.json" : "CONFIG.json");
        goto done;
    }
    if (!kept_text) {
        fprintf(stderr, "groksweep ticket: missing --kept-fraction F (the fraction of the weights kept, in (0, 1])\n");
        goto done;
    }
    char *end;
    double kept = strtod(kept_text, &end);
    if (end == kept_text || *end != '\0' || !isfinite(kept) || !(kept > 0 && kept <= 1)) {
        fprintf(stderr, "groksweep ticket: --kept-fraction %s: must be a number in (0, 1] (the fraction of the "
                "weights kept)\n", kept_text);
        goto done;
    }
    if (control && strcmp(control, "ticket") != 0 && strcmp(control, "norm_matched") != 0) {
        fprintf(stderr, "groksweep ticket: --control %s: must be ticket or norm_matched\n", control);
        goto done;
    }
    /* After the user's --set, so that the flags decide the ticket. */
    source_override = string_override("ticket.source", "file");
    weights_override = string_override("ticket.weights", positional[0]);
    kept_override = override_text("ticket.kept_fraction", kept_text);
    control_override = control ? string_override("ticket.control", control) : NULL;
    if (!source_override || !weights_override || !kept_override || (control && !control_override)) {
        status = EXIT_ENVIRONMENT;
        goto done;
    }
    overrides[request.n_overrides++] = source_override;
    overrides[request.n_overrides++] = weights_override;
    overrides[request.n_overrides++] = kept_override;
    if (control_override) overrides[request.n_overrides++] = control_override;
    request.config_path = positional[1];
    request.overrides = overrides;
    status = train_config("ticket", &request);
done:
    free(source_override);
    free(weights_override);
    free(kept_override);
    free(control_override);
    free(overrides);
    return status;
}
