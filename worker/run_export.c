#include "run_export.h"

#include <stdlib.h>

_Static_assert(sizeof(int) == 4 && sizeof(real) == 4, "the export stores int32 and float32 arrays");

int run_export_array(FILE *out, const void *data, size_t size, size_t count) {
    return fwrite(data, size, count, out) == count ? 0 : -1;
}

int run_export_header(FILE *out, const RunConfig *cfg, const RunSetup *setup) {
    char *config_json = config_to_json(cfg);
    if (!config_json) return -1;
    const ExampleShape *s = &setup->data.train.shape;
    const ParamTable *table = &setup->model.table;
    fprintf(out,
            "{\"config\": %s, \"shape\": {\"seq_len\": %d, \"vocab\": %d, \"dim\": %d, \"target\": \"%s\", "
            "\"n_outputs\": %d}, \"n\": %d, \"total\": %zu, \"params\": [",
            config_json, s->seq_len, s->vocab, s->dim, s->target == TARGET_CLASS ? "class" : "vector", s->n_outputs,
            setup->data.train.n, table->total);
    free(config_json);
    for (int t = 0; t < table->count; t++) {
        const ParamView *v = &table->views[t];
        fprintf(out, "%s{\"name\": \"%s\", \"shape\": [%d, %d]}", t ? ", " : "", v->name, v->rows, v->cols);
    }
    fputc(']', out);
    return 0;
}

int run_export_data(FILE *out, const RunSetup *setup) {
    const Examples *train = &setup->data.train;
    const ExampleShape *s = &train->shape;
    size_t n = (size_t)train->n;
    int status = 0;
    if (s->seq_len) status |= run_export_array(out, train->tokens, sizeof(int), n * (size_t)s->seq_len);
    if (s->dim) status |= run_export_array(out, train->features, sizeof(real), n * (size_t)s->dim);
    if (train->labels) status |= run_export_array(out, train->labels, sizeof(int), n);
    if (train->targets) status |= run_export_array(out, train->targets, sizeof(real), n * (size_t)s->n_outputs);
    status |= run_export_array(out, setup->model.params, sizeof(real), setup->model.table.total);
    return status ? -1 : 0;
}
