#include "params.h"

#include <stdio.h>
#include <string.h>

#include "check.h"

size_t param_table_add(ParamTable *table, const char *name, int rows, int cols, ParamRole role,
                       int fan_in) {
    ASSERT(table->count < MAX_PARAM_TENSORS && rows > 0 && cols > 0);
    ParamView *view = &table->views[table->count++];
    int written = snprintf(view->name, sizeof view->name, "%s", name);
    ASSERT(written > 0 && (size_t)written < sizeof view->name);
    view->rows = rows;
    view->cols = cols;
    view->offset = table->total;
    view->role = role;
    view->fan_in = fan_in;
    table->total += (size_t)rows * (size_t)cols;
    return view->offset;
}

const ParamView *param_table_find(const ParamTable *table, const char *name) {
    for (int i = 0; i < table->count; i++)
        if (strcmp(table->views[i].name, name) == 0) return &table->views[i];
    return NULL;
}
