#include "summary.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>

#ifndef GROKSWEEP_VERSION
#define GROKSWEEP_VERSION "unknown"
#endif

/* A JSON number, or null where the value is not finite (JSON has no NaN). */
static cJSON *number_or_null(double x) { return isfinite(x) ? cJSON_CreateNumber(x) : cJSON_CreateNull(); }

static cJSON *crossing_object(const int *steps) {
    cJSON *obj = cJSON_CreateObject();
    for (int k = 0; k < N_ACC_LEVELS; k++) cJSON_AddNumberToObject(obj, ACC_LEVEL_NAMES[k], steps[k]);
    return obj;
}

static cJSON *seed_string(uint64_t seed) {
    char text[24];
    snprintf(text, sizeof text, "%016" PRIx64, seed);
    return cJSON_CreateString(text);
}

char *run_summary_json(const RunConfig *cfg, const RunResult *result) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "status", result->status == RUN_DONE       ? "done"
                                        : result->status == RUN_DIVERGED ? "diverged"
                                                                         : "interrupted");
    cJSON_AddStringToObject(root, "phase", phase_name(result->phase));
    cJSON_AddItemToObject(root, "train_acc_step", crossing_object(result->crossings.train_step));
    cJSON_AddItemToObject(root, "test_acc_step", crossing_object(result->crossings.test_step));
    cJSON *final = cJSON_CreateObject();
    cJSON_AddItemToObject(final, "step", cJSON_CreateNumber(result->final.step));
    cJSON_AddItemToObject(final, "train_loss", number_or_null(result->final.train_loss));
    cJSON_AddItemToObject(final, "test_loss", number_or_null(result->final.test_loss));
    cJSON_AddItemToObject(final, "train_acc", number_or_null(result->final.train_acc));
    cJSON_AddItemToObject(final, "test_acc", number_or_null(result->final.test_acc));
    cJSON_AddItemToObject(final, "weight_norm", number_or_null(result->final.weight_norm));
    if (result->final.n_ranks > 0) {
        cJSON *ranks = cJSON_CreateArray();
        for (int l = 0; l < result->final.n_ranks; l++)
            cJSON_AddItemToArray(ranks, result->final.feature_rank[l] < 0 ? cJSON_CreateNull()
                                                                          : cJSON_CreateNumber(result->final.feature_rank[l]));
        cJSON_AddItemToObject(final, "feature_rank", ranks);
    }
    cJSON_AddItemToObject(root, "final", final);
    cJSON_AddNumberToObject(root, "steps_run", result->steps_run);
    cJSON_AddBoolToObject(root, "early_stopped", result->early_stopped);
    cJSON_AddNumberToObject(root, "wall_seconds", result->wall_seconds);
    cJSON_AddNumberToObject(root, "ms_per_step", result->ms_per_step);
    cJSON_AddNumberToObject(root, "n_train", result->n_train);
    cJSON_AddNumberToObject(root, "n_test", result->n_test);
    cJSON_AddNumberToObject(root, "n_params", (double)result->n_params);
    cJSON *seeds = cJSON_CreateObject();
    cJSON_AddItemToObject(seeds, "split", seed_string(result->seeds.split));
    cJSON_AddItemToObject(seeds, "init", seed_string(result->seeds.init));
    cJSON_AddItemToObject(seeds, "batches", seed_string(result->seeds.batches));
    cJSON_AddItemToObject(root, "seeds", seeds);
    cJSON *blas = cJSON_CreateObject();
    cJSON_AddStringToObject(blas, "config", blas_config());
    cJSON_AddStringToObject(blas, "core", blas_core_name());
    cJSON_AddItemToObject(root, "blas", blas);
    cJSON_AddStringToObject(root, "groksweep_version", GROKSWEEP_VERSION);
    char *config_text = config_to_json(cfg);
    cJSON *config = config_text ? cJSON_Parse(config_text) : NULL;
    cJSON_free(config_text);
    if (config) cJSON_AddItemToObject(root, "config", config);
    char *text = config ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    return text;
}

int write_curve_csv(FILE *out, const RunResult *result) {
    int n_ranks = result->curve_len > 0 ? result->curve[0].n_ranks : 0;
    if (fprintf(out, "step,train_loss,test_loss,train_acc,test_acc,weight_norm") < 0) return -1;
    for (int l = 0; l < n_ranks; l++)
        if (fprintf(out, ",feature_rank_%d", l + 1) < 0) return -1;
    if (fputc('\n', out) == EOF) return -1;
    for (int i = 0; i < result->curve_len; i++) {
        const EvalPoint *e = &result->curve[i];
        if (fprintf(out, "%d,%.9g,%.9g,%.9g,%.9g,%.9g", e->step, e->train_loss, e->test_loss, e->train_acc,
                    e->test_acc, e->weight_norm) < 0)
            return -1;
        for (int l = 0; l < n_ranks; l++) {
            int rank = l < e->n_ranks ? e->feature_rank[l] : -1;
            if ((rank >= 0 ? fprintf(out, ",%d", rank) : fprintf(out, ",")) < 0) return -1;
        }
        if (fputc('\n', out) == EOF) return -1;
    }
    return 0;
}
