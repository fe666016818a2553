/* Parameter table: every tensor of a model is a named view into one
 * contiguous buffer. The same table describes the gradient buffer and the
 * optimizer's moment buffers, which have the same layout. */
#ifndef GROKSWEEP_PARAMS_H
#define GROKSWEEP_PARAMS_H

#include <stddef.h>

#define MAX_PARAM_TENSORS 160
#define NO_PARAM ((size_t)-1) /* offset of a tensor the model does not have */

/* How a tensor is initialized, following PyTorch's layer defaults. */
typedef enum {
    PARAM_LINEAR_WEIGHT, /* pytorch: U(±1/sqrt(fan_in)); normal: N(0, std²) */
    PARAM_LINEAR_BIAS,   /* pytorch: U(±1/sqrt(fan_in)); normal: 0 */
    PARAM_EMBEDDING,     /* pytorch: N(0, 1);            normal: N(0, std²) */
    PARAM_NORM_GAIN,     /* 1 */
    PARAM_NORM_BIAS,     /* 0 */
} ParamRole;

typedef struct {
    char name[48];  /* PyTorch-style module path, e.g. "blocks.0.attn.q.weight" */
    int rows, cols; /* a vector has rows == 1 */
    size_t offset;  /* into the contiguous buffer, in elements */
    ParamRole role;
    int fan_in;     /* for PyTorch's uniform bound */
} ParamView;

typedef struct {
    int count;
    size_t total;   /* elements in the buffer */
    ParamView views[MAX_PARAM_TENSORS];
} ParamTable;

/* Append a tensor to the table and return its offset. */
size_t param_table_add(ParamTable *table, const char *name, int rows, int cols, ParamRole role,
                       int fan_in);

/* The view with this name, or NULL. */
const ParamView *param_table_find(const ParamTable *table, const char *name);

#endif
