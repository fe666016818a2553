/* libFuzzer target: the sweep and run-config parsers on arbitrary bytes.
 * Every input must be parsed or refused with a message, never crash, leak
 * or trip an assertion; a sweep it accepts must give every point a config. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char err[1024];
    RunConfig cfg;
    if (config_parse(&cfg, text, "fuzz.json", NULL, 0, err, sizeof err) == 0) {
        char *json = config_to_json(&cfg);
        RunConfig again;
        if (json && config_parse(&again, json, "round trip", NULL, 0, err, sizeof err) != 0) abort();
        free(json);
    }
    Sweep sweep;
    if (sweep_parse(&sweep, text, "fuzz.json", err, sizeof err) == 0) {
        for (long p = 0; p < sweep.n_points && p < 64; p++)
            if (sweep_point_config(&sweep, p, &cfg, err, sizeof err) != 0) abort();
        sweep_free(&sweep);
    }
    free(text);
    return 0;
}
