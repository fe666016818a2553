/* What a model is made of, as the config describes it: architecture,
 * widths, activation, biases and initialization. */
#ifndef GROKSWEEP_MODEL_CONFIG_H
#define GROKSWEEP_MODEL_CONFIG_H

#include <stdbool.h>

#include "layers.h"

typedef enum { MODEL_MLP, MODEL_TRANSFORMER } ModelKind;

/* How an MLP reads an example: token inputs as one-hots or learned
 * embeddings, dense inputs as they are. */
typedef enum { INPUT_ONEHOT, INPUT_EMBED_ADD, INPUT_EMBED_CONCAT, INPUT_DENSE } InputKind;

typedef enum { INIT_PYTORCH, INIT_NORMAL } InitKind;

/* Where a transformer block normalizes: nowhere, before each sublayer
 * (x += F(LN(x))), or after each residual sum (x = LN(x + F(x))). */
typedef enum { LAYERNORM_NONE, LAYERNORM_PRE, LAYERNORM_POST, LAYERNORM_PLACEMENT_COUNT } LayerNormPlacement;

/* A transformer's positional embeddings: a learned table, or the fixed
 * sin/cos table of Vaswani et al. */
typedef enum { POSITIONS_LEARNED, POSITIONS_SINUSOIDAL, POSITION_KIND_COUNT } PositionKind;

typedef struct {
    ModelKind kind;
    /* mlp */
    InputKind input;
    int width;          /* hidden width N */
    int depth;          /* number of hidden layers */
    int embed_dim;      /* embedding width d for embed_add / embed_concat */
    /* transformer */
    int n_layers;
    int d_model;
    int n_heads;
    int d_mlp;
    LayerNormPlacement layernorm;
    bool final_layernorm; /* LayerNorm on the last position before the unembedding */
    PositionKind positions;
    bool attention_bias;  /* biases on the Q, K, V and O projections */
    /* both */
    Activation activation;
    bool bias;          /* mlp: every Linear; transformer: the MLP blocks' Linears */
    InitKind init_kind;
    double init_std;    /* for INIT_NORMAL; resolved (never 0) after parsing */
    double init_scale;  /* alpha: every parameter is multiplied by it */
} ModelConfig;

/* Names of enum values, as they appear in JSON. */
const char *model_kind_name(ModelKind kind);
const char *input_kind_name(InputKind kind);
const char *init_kind_name(InitKind kind);
const char *layernorm_placement_name(LayerNormPlacement placement);
const char *position_kind_name(PositionKind kind);

#endif
