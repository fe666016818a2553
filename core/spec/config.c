/* Run configuration: the schema table, JSON parsing with validation, `--set`
 * overrides, serialisation back to JSON and the key reference.
 *
 * Every scalar leaf of the JSON document is one row of `fields`: its dotted
 * path, type, place in RunConfig, allowed range or names, default, the
 * condition under which it applies, and a line of help. Sections ("task",
 * "model.init", ...) are not listed; a path is a section when it is a proper
 * prefix of some leaf path. Parsing, error messages, config_to_json() and
 * config_help() are all driven by that table. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "error.h"
#include "mlp.h"

#define COUNT_OF(array) ((int)(sizeof(array) / sizeof((array)[0])))

/* Longest dotted path of a known key, plus room; longer paths are unknown. */
#define PATH_CAPACITY 64
/* Values quoted in messages are cut to this many bytes. */
#define VALUE_TEXT_CAPACITY 96
/* Room for the list of allowed values or valid keys in a message. */
#define LIST_TEXT_CAPACITY 512

/* Enum-typed members are read and written through an int pointer. */
_Static_assert(sizeof(TaskKind) == sizeof(int), "TaskKind must be int-sized");
_Static_assert(sizeof(Operation) == sizeof(int), "Operation must be int-sized");
_Static_assert(sizeof(SequenceFormat) == sizeof(int), "SequenceFormat must be int-sized");
_Static_assert(sizeof(SubsetKind) == sizeof(int), "SubsetKind must be int-sized");
_Static_assert(sizeof(ModelKind) == sizeof(int), "ModelKind must be int-sized");
_Static_assert(sizeof(InputKind) == sizeof(int), "InputKind must be int-sized");
_Static_assert(sizeof(Activation) == sizeof(int), "Activation must be int-sized");
_Static_assert(sizeof(InitKind) == sizeof(int), "InitKind must be int-sized");
_Static_assert(sizeof(LayerNormPlacement) == sizeof(int), "LayerNormPlacement must be int-sized");
_Static_assert(sizeof(PositionKind) == sizeof(int), "PositionKind must be int-sized");
_Static_assert(sizeof(LossKind) == sizeof(int), "LossKind must be int-sized");
_Static_assert(sizeof(OptimizerKind) == sizeof(int), "OptimizerKind must be int-sized");
_Static_assert(sizeof(TicketControl) == sizeof(int), "TicketControl must be int-sized");
_Static_assert(sizeof(TicketSource) == sizeof(int), "TicketSource must be int-sized");

/* Name lookups by int, one per enum field of the table; each module owns
 * the names of its own enums. */
static const char *task_kind_name_of(int value) { return task_kind_name((TaskKind)value); }
static const char *operation_name_of(int value) { return operation_name((Operation)value); }
static const char *sequence_name_of(int value) { return sequence_format_name((SequenceFormat)value); }
static const char *subset_name_of(int value) { return subset_kind_name((SubsetKind)value); }
static const char *model_kind_name_of(int value) { return model_kind_name((ModelKind)value); }
static const char *input_kind_name_of(int value) { return input_kind_name((InputKind)value); }
static const char *activation_name_of(int value) { return activation_name((Activation)value); }
static const char *loss_name_of(int value) { return loss_name((LossKind)value); }
static const char *optimizer_name_of(int value) { return optimizer_name((OptimizerKind)value); }
static const char *init_kind_name_of(int value) { return init_kind_name((InitKind)value); }
static const char *layernorm_name_of(int value) { return layernorm_placement_name((LayerNormPlacement)value); }
static const char *positions_name_of(int value) { return position_kind_name((PositionKind)value); }
static const char *ticket_control_name_of(int value) { return ticket_control_name((TicketControl)value); }
static const char *ticket_source_name_of(int value) { return ticket_source_name((TicketSource)value); }

static const char *const ticket_control_names[TICKET_CONTROL_COUNT] = {[TICKET_CONTROL_TICKET] = "ticket",
                                                                       [TICKET_CONTROL_NORM_MATCHED] = "norm_matched"};
static const char *const ticket_source_names[TICKET_SOURCE_COUNT] = {[TICKET_SOURCE_TRAIN] = "train",
                                                                     [TICKET_SOURCE_FILE] = "file"};

const char *ticket_control_name(TicketControl control) {
    ASSERT((unsigned)control < (unsigned)TICKET_CONTROL_COUNT);
    return ticket_control_names[control];
}

const char *ticket_source_name(TicketSource source) {
    ASSERT((unsigned)source < (unsigned)TICKET_SOURCE_COUNT);
    return ticket_source_names[source];
}

bool ticket_active(const TicketConfig *ticket) { return ticket->kept_fraction < 1; }

/* Debian's dataset-fashion-mnist package: the default image files. */
#define FASHION_MNIST "/usr/share/datasets/fashion-mnist/"

typedef enum {
    TYPE_INT,       /* JSON number with an integral value, stored as int */
    TYPE_REAL,      /* JSON number, stored as double */
    TYPE_BOOL,      /* JSON true / false, stored as bool */
    TYPE_ENUM,      /* JSON string from a list of names, stored as int */
    TYPE_REAL_PAIR, /* JSON array of two numbers, stored as two doubles */
    TYPE_PATH       /* JSON string naming a file, stored in char[DATA_PATH_CAPACITY] */
} FieldType;

/* Row ids of the schema table, in schema (and JSON output) order. */
typedef enum {
    F_TASK_KIND,
    F_TASK_OP,
    F_TASK_P,
    F_TASK_DATA_FRACTION,
    F_TASK_SEQUENCE,
    F_TASK_CONCEALED_BITS,
    F_TASK_DRAWS,
    F_TASK_TRAIN_SIZE,
    F_TASK_TEST_SIZE,
    F_TASK_TRAIN_IMAGES,
    F_TASK_TRAIN_LABELS,
    F_TASK_TEST_IMAGES,
    F_TASK_TEST_LABELS,
    F_TASK_SUBSET,
    F_TASK_INPUT_DIM,
    F_TASK_OUTPUT_DIM,
    F_TASK_TEACHER_WIDTH,
    F_TASK_TEACHER_DEPTH,
    F_TASK_TEACHER_SEED,
    F_TASK_TOLERANCE,
    F_TASK_DATASET,
    F_TASK_IMBALANCE,
    F_MODEL_KIND,
    F_MODEL_INPUT,
    F_MODEL_WIDTH,
    F_MODEL_DEPTH,
    F_MODEL_EMBED_DIM,
    F_MODEL_N_LAYERS,
    F_MODEL_D_MODEL,
    F_MODEL_N_HEADS,
    F_MODEL_D_MLP,
    F_MODEL_LAYERNORM,
    F_MODEL_FINAL_LAYERNORM,
    F_MODEL_POSITIONS,
    F_MODEL_ACTIVATION,
    F_MODEL_BIAS,
    F_MODEL_ATTENTION_BIAS,
    F_MODEL_INIT_KIND,
    F_MODEL_INIT_STD,
    F_MODEL_INIT_SCALE,
    F_LOSS,
    F_OPTIMIZER_KIND,
    F_OPTIMIZER_LR,
    F_OPTIMIZER_WEIGHT_DECAY,
    F_OPTIMIZER_BETAS,
    F_OPTIMIZER_EPS,
    F_OPTIMIZER_WARMUP_STEPS,
    F_OPTIMIZER_MOMENTUM,
    F_TRAIN_STEPS,
    F_TRAIN_BATCH_SIZE,
    F_TRAIN_EVAL_EVERY,
    F_TRAIN_SEED,
    F_TRAIN_EARLY_STOP_TEST_ACC,
    F_TRAIN_EARLY_STOP_PATIENCE,
    F_TRAIN_FIXED_NORM,
    F_TRAIN_FEATURE_RANK,
    F_TRAIN_FEATURE_RANK_SAMPLES,
    F_PHASE_THRESHOLD,
    F_PHASE_DELAY_STEPS,
    F_TICKET_KEPT_FRACTION,
    F_TICKET_CONTROL,
    F_TICKET_SOURCE,
    F_TICKET_SOURCE_STEPS,
    F_TICKET_WEIGHTS,
    FIELD_COUNT
} FieldId;

typedef struct {
    const char *path;             /* dotted JSON path */
    FieldType type;
    size_t offset;                /* of the member in RunConfig */
    size_t second_offset;         /* TYPE_REAL_PAIR: of the second member */
    double min, max;              /* TYPE_INT, TYPE_REAL, each of a TYPE_REAL_PAIR */
    bool min_open, max_open;      /* bound excluded (an infinite max is always excluded) */
    const char *(*name_of)(int);  /* TYPE_ENUM: JSON name of each value 0 .. n_names-1 */
    int n_names;
    bool accepts_bool;            /* TYPE_ENUM: JSON false and true also read, as the values 0 and 1 */
    double default_value;         /* number, 0/1 for bool, enum value; first of a pair */
    double default_second;        /* TYPE_REAL_PAIR: second default */
    const char *default_note;     /* kind-dependent default, described for config_help() */
    const char *default_text;     /* TYPE_PATH: the default path */
    /* The field applies only when the enum field `selector` has a value
     * whose bit is set in selector_mask (and `selector` itself applies);
     * selector_mask == 0 means it always applies. Setting a field that does
     * not apply is an error, and config_to_json() leaves it out. */
    FieldId selector;
    unsigned selector_mask;
    const char *help;
} Field;

#define MEMBER(member) .offset = offsetof(RunConfig, member)
#define INT_RANGE(lo, hi) .type = TYPE_INT, .min = (lo), .max = (hi)
#define ENUM_OF(names_function, count) .type = TYPE_ENUM, .name_of = (names_function), .n_names = (count)
#define MLP_ONLY .selector = F_MODEL_KIND, .selector_mask = 1u << MODEL_MLP
#define TRANSFORMER_ONLY .selector = F_MODEL_KIND, .selector_mask = 1u << MODEL_TRANSFORMER
#define ADAMW_ONLY .selector = F_OPTIMIZER_KIND, .selector_mask = 1u << OPT_ADAMW
#define SGD_ONLY .selector = F_OPTIMIZER_KIND, .selector_mask = 1u << OPT_SGD
#define ARITHMETIC_ONLY .selector = F_TASK_KIND, .selector_mask = 1u << TASK_ARITHMETIC
#define ALGEBRAIC_ONLY .selector = F_TASK_KIND, .selector_mask = 1u << TASK_ARITHMETIC | 1u << TASK_S5
#define IMAGES_ONLY .selector = F_TASK_KIND, .selector_mask = 1u << TASK_IMAGES
#define TEACHER_ONLY .selector = F_TASK_KIND, .selector_mask = 1u << TASK_TEACHER_STUDENT
#define CARVALHO_ONLY .selector = F_TASK_KIND, .selector_mask = 1u << TASK_CARVALHO
#define SIZED_TASKS \
    .selector = F_TASK_KIND, .selector_mask = 1u << TASK_IMAGES | 1u << TASK_TEACHER_STUDENT | 1u << TASK_CARVALHO
#define PATH_FIELD(id, key, member, file, what)                                                              \
    [id] = {key, .type = TYPE_PATH, MEMBER(member), .default_text = FASHION_MNIST file, IMAGES_ONLY,          \
            .help = what " (IDX format, gzip'd or raw); the default is Debian's dataset-fashion-mnist."}

static const Field fields[FIELD_COUNT] = {
    [F_TASK_KIND] = {"task.kind", ENUM_OF(task_kind_name_of, TASK_KIND_COUNT), MEMBER(task.kind),
                     .default_value = TASK_ARITHMETIC,
                     .help = "Where the examples come from: x op y mod p, compositions of permutations in S5 "
                             "(s5), images from IDX files, a random teacher MLP (regression), or Carvalho et al.'s "
                             "Gaussian subclasses."},
    [F_TASK_OP] = {"task.op", ENUM_OF(operation_name_of, OP_COUNT), MEMBER(task.arithmetic.op),
                   .default_value = OP_ADD, ALGEBRAIC_ONLY, .default_note = "\"x+y\" for arithmetic, \"x.y\" for s5",
                   .help = "Operation; the label of (a, b) is (a op b) mod p. s5 has x.y (x, then y), x.y.x^-1 "
                           "and x.y.x, over the 120 permutations of 5 elements in lexicographic order."},
    [F_TASK_P] = {"task.p", INT_RANGE(2, 2000), MEMBER(task.arithmetic.p), .default_value = 59, ARITHMETIC_ONLY,
                  .help = "Modulus p; must be prime for operations that divide (x/y)."},
    [F_TASK_DATA_FRACTION] = {"task.data_fraction", .type = TYPE_REAL, MEMBER(task.arithmetic.data_fraction),
                              .min = 0, .max = 1, .min_open = true, .max_open = true, .default_value = 0.3,
                              ALGEBRAIC_ONLY,
                              .help = "Fraction of all (a, b) pairs used for training; the rest is the test set."},
    [F_TASK_SEQUENCE] = {"task.sequence", ENUM_OF(sequence_name_of, SEQUENCE_FORMAT_COUNT),
                         MEMBER(task.arithmetic.sequence), .default_value = SEQUENCE_PAIR, ALGEBRAIC_ONLY,
                         .default_note = "\"a b\" for mlp, \"a b =\" for transformer",
                         .help = "Tokens of an example over the n elements (tokens 0 .. n-1), '=' (token n), the "
                                 "operation (n+1) and <bos> (n+2): \"a b\", \"a b =\", \"a op b =\" or "
                                 "Power et al.'s \"<bos> a op b =\". Only the answer is scored."},
    [F_TASK_CONCEALED_BITS] = {"task.concealed_bits", INT_RANGE(0, 4096), MEMBER(task.arithmetic.concealed_bits),
                               .default_value = 0, ALGEBRAIC_ONLY,
                               .help = "k random bits appended to every example's one-hot input (Miller et al. "
                                       "2024), fixed per pair by the split seed; the MLP then reads dense "
                                       "features (model.input \"onehot\" or \"dense\")."},
    [F_TASK_DRAWS] = {"task.draws", INT_RANGE(0, 100000000), MEMBER(task.arithmetic.draws), .default_value = 0,
                      ALGEBRAIC_ONLY,
                      .help = "0: every pair is one example. Otherwise this many examples, each a pair drawn "
                              "uniformly with replacement, split by task.data_fraction; a pair may be in both "
                              "sets, told apart by its concealed bits (Miller et al.'s 600 train / 200 test "
                              "draws of mod-7 pairs)."},
    [F_TASK_TRAIN_SIZE] = {"task.train_size", INT_RANGE(1, 100000000), MEMBER(task.train_size),
                           .default_value = 1000, SIZED_TASKS,
                           .default_note = "1000 for images, 100 for teacher_student, 400 for carvalho",
                           .help = "Training-set size N."},
    [F_TASK_TEST_SIZE] = {"task.test_size", INT_RANGE(0, 100000000), MEMBER(task.test_size), .default_value = 0,
                          SIZED_TASKS,
                          .default_note = "0 (the whole test pool) for images, 100 for teacher_student, 10000 for "
                                          "carvalho",
                          .help = "Test-set size; for images the first ones of the test pool, 0 = all of it."},
    PATH_FIELD(F_TASK_TRAIN_IMAGES, "task.train_images", task.images.train_images, "train-images-idx3-ubyte.gz",
               "Images of the training pool"),
    PATH_FIELD(F_TASK_TRAIN_LABELS, "task.train_labels", task.images.train_labels, "train-labels-idx1-ubyte.gz",
               "Labels of the training pool"),
    PATH_FIELD(F_TASK_TEST_IMAGES, "task.test_images", task.images.test_images, "t10k-images-idx3-ubyte.gz",
               "Images of the test pool"),
    PATH_FIELD(F_TASK_TEST_LABELS, "task.test_labels", task.images.test_labels, "t10k-labels-idx1-ubyte.gz",
               "Labels of the test pool"),
    [F_TASK_SUBSET] = {"task.subset", ENUM_OF(subset_name_of, SUBSET_KIND_COUNT), MEMBER(task.images.subset),
                       .default_value = SUBSET_FIRST, IMAGES_ONLY,
                       .help = "Which train_size images of the training pool: the first ones (Omnigrok), or a "
                               "random subset seeded by train.seed (nested across sizes)."},
    [F_TASK_INPUT_DIM] = {"task.input_dim", INT_RANGE(1, 65536), MEMBER(task.teacher.input_dim), .default_value = 5,
                          TEACHER_ONLY, .help = "Input dimension D of the teacher; inputs are drawn from N(0, I)."},
    [F_TASK_OUTPUT_DIM] = {"task.output_dim", INT_RANGE(1, 65536), MEMBER(task.teacher.output_dim),
                           .default_value = 5, TEACHER_ONLY, .help = "Output dimension of the teacher."},
    [F_TASK_TEACHER_WIDTH] = {"task.teacher_width", INT_RANGE(1, 65536), MEMBER(task.teacher.width),
                              .default_value = 100, TEACHER_ONLY,
                              .help = "Hidden width of the teacher, a tanh MLP with biases and PyTorch's "
                                      "initialization."},
    [F_TASK_TEACHER_DEPTH] = {"task.teacher_depth", INT_RANGE(1, 16), MEMBER(task.teacher.depth), .default_value = 2,
                              TEACHER_ONLY, .help = "Hidden layers of the teacher."},
    [F_TASK_TEACHER_SEED] = {"task.teacher_seed", INT_RANGE(0, 2147483647), MEMBER(task.teacher.seed),
                             .default_value = 0, TEACHER_ONLY,
                             .help = "Seed of the teacher's weights (the inputs follow train.seed)."},
    [F_TASK_TOLERANCE] = {"task.tolerance", .type = TYPE_REAL, MEMBER(task.teacher.tolerance), .min = 0,
                          .max = INFINITY, .min_open = true, .max_open = true, .default_value = 1e-3, TEACHER_ONLY,
                          .help = "A prediction counts as correct (accuracy) when its mean squared error is below "
                                  "this."},
    [F_TASK_DATASET] = {"task.dataset", INT_RANGE(1, 2), MEMBER(task.carvalho.dataset), .default_value = 1,
                        CARVALHO_ONLY,
                        .help = "Carvalho et al.'s dataset: 1 (equidistant, 4 classes of 2 subclasses) or 2 "
                                "(equivariant, 4 classes of 10)."},
    [F_TASK_IMBALANCE] = {"task.imbalance", .type = TYPE_REAL, MEMBER(task.carvalho.imbalance), .min = 0, .max = 1,
                          .default_value = 1, CARVALHO_ONLY,
                          .help = "Imbalance f: half the subclasses of each class get weight f in the training "
                                  "set, the rest weight 1 (1 = balanced, 0 = absent)."},
    [F_MODEL_KIND] = {"model.kind", ENUM_OF(model_kind_name_of, MODEL_TRANSFORMER + 1), MEMBER(model.kind),
                      .default_value = MODEL_MLP, .help = "Architecture."},
    [F_MODEL_INPUT] = {"model.input", ENUM_OF(input_kind_name_of, INPUT_DENSE + 1), MEMBER(model.input),
                       .default_value = INPUT_ONEHOT, MLP_ONLY,
                       .default_note = "\"onehot\" for arithmetic, \"dense\" for the other tasks",
                       .help = "MLP input: for token tasks the concatenated one-hots of the tokens, or the sum or "
                               "the concatenation of learned embeddings; for the other tasks their features."},
    [F_MODEL_WIDTH] = {"model.width", INT_RANGE(1, 65536), MEMBER(model.width), .default_value = 256, MLP_ONLY,
                       .help = "Hidden width N of every MLP hidden layer."},
    [F_MODEL_DEPTH] = {"model.depth", INT_RANGE(1, MLP_MAX_DEPTH), MEMBER(model.depth), .default_value = 1, MLP_ONLY,
                       .help = "Number of hidden layers of the MLP."},
    [F_MODEL_EMBED_DIM] = {"model.embed_dim", INT_RANGE(1, 65536), MEMBER(model.embed_dim),
                           .default_value = 128, .selector = F_MODEL_INPUT,
                           .selector_mask = 1u << INPUT_EMBED_ADD | 1u << INPUT_EMBED_CONCAT,
                           .help = "Embedding width d of the MLP's embedding inputs."},
    [F_MODEL_N_LAYERS] = {"model.n_layers", INT_RANGE(1, 16), MEMBER(model.n_layers), .default_value = 1,
                          TRANSFORMER_ONLY, .help = "Number of transformer blocks."},
    [F_MODEL_D_MODEL] = {"model.d_model", INT_RANGE(1, 65536), MEMBER(model.d_model), .default_value = 128,
                         TRANSFORMER_ONLY, .help = "Residual stream width; must be divisible by model.n_heads."},
    [F_MODEL_N_HEADS] = {"model.n_heads", INT_RANGE(1, 256), MEMBER(model.n_heads), .default_value = 4,
                         TRANSFORMER_ONLY, .help = "Attention heads per block."},
    [F_MODEL_D_MLP] = {"model.d_mlp", INT_RANGE(1, 65536), MEMBER(model.d_mlp), .default_value = 512,
                       TRANSFORMER_ONLY, .help = "Hidden width of each block's MLP."},
    [F_MODEL_LAYERNORM] = {"model.layernorm", ENUM_OF(layernorm_name_of, LAYERNORM_PLACEMENT_COUNT),
                           MEMBER(model.layernorm), .accepts_bool = true, .default_value = LAYERNORM_NONE,
                           TRANSFORMER_ONLY,
                           .help = "LayerNorm in the transformer's blocks: none, pre-LN (x += F(LN(x))) or post-LN "
                                   "(x = LN(x + F(x)), Power et al.); true means \"pre\", false \"none\"."},
    [F_MODEL_FINAL_LAYERNORM] = {"model.final_layernorm", .type = TYPE_BOOL, MEMBER(model.final_layernorm),
                                 .default_value = 0, TRANSFORMER_ONLY,
                                 .default_note = "true for model.layernorm \"pre\", false otherwise",
                                 .help = "A LayerNorm on the last position before the unembedding."},
    [F_MODEL_POSITIONS] = {"model.positions", ENUM_OF(positions_name_of, POSITION_KIND_COUNT), MEMBER(model.positions),
                           .default_value = POSITIONS_LEARNED, TRANSFORMER_ONLY,
                           .help = "Positional embeddings: a learned table, or the fixed sin/cos table of Vaswani et "
                                   "al. as openai/grok computes it (P[t][2k] = sin(t/10000^(2k/d_model)), "
                                   "P[t][2k+1] = cos of the same angle)."},
    [F_MODEL_ACTIVATION] = {"model.activation", ENUM_OF(activation_name_of, ACTIVATION_COUNT),
                            MEMBER(model.activation), .default_value = ACT_QUADRATIC,
                            .default_note = "\"quadratic\" for mlp on arithmetic, \"relu\" otherwise",
                            .help = "Nonlinearity of the hidden layers (quadratic: x^2)."},
    [F_MODEL_BIAS] = {"model.bias", .type = TYPE_BOOL, MEMBER(model.bias), .default_value = 0,
                      .default_note = "false for mlp on arithmetic, true otherwise",
                      .help = "Bias terms: every Linear of the MLP; the Linears of the transformer's MLP blocks "
                              "(not its attention: model.attention_bias)."},
    [F_MODEL_ATTENTION_BIAS] = {"model.attention_bias", .type = TYPE_BOOL, MEMBER(model.attention_bias),
                                .default_value = 0, TRANSFORMER_ONLY,
                                .help = "Bias terms on the transformer's Q, K, V and O projections."},
    [F_MODEL_INIT_KIND] = {"model.init.kind", ENUM_OF(init_kind_name_of, INIT_NORMAL + 1),
                           MEMBER(model.init_kind), .default_value = INIT_NORMAL,
                           .default_note = "\"pytorch\" for mlp on dense inputs, \"normal\" otherwise",
                           .help = "Initialization: PyTorch's default, or weights drawn from N(0, std^2)."},
    [F_MODEL_INIT_STD] = {"model.init.std", .type = TYPE_REAL, MEMBER(model.init_std), .min = 0,
                          .max = INFINITY, .min_open = true, .max_open = true,
                          .default_note = "0.5/cbrt(2*width) for mlp (Gromov), 0.02 for transformer",
                          .selector = F_MODEL_INIT_KIND, .selector_mask = 1u << INIT_NORMAL,
                          .help = "Standard deviation of the normal initialization."},
    [F_MODEL_INIT_SCALE] = {"model.init_scale", .type = TYPE_REAL, MEMBER(model.init_scale), .min = 0,
                            .max = INFINITY, .min_open = true, .max_open = true, .default_value = 1.0,
                            .help = "alpha: every parameter is multiplied by it after initialization."},
    [F_LOSS] = {"loss", ENUM_OF(loss_name_of, LOSS_KIND_COUNT), MEMBER(loss), .default_value = LOSS_MSE,
                .help = "Training loss: cross entropy of the logits, or mean squared error to one-hot labels "
                        "(or to the targets of teacher_student)."},
    [F_OPTIMIZER_KIND] = {"optimizer.kind", ENUM_OF(optimizer_name_of, OPTIMIZER_KIND_COUNT),
                          MEMBER(optimizer.kind), .default_value = OPT_ADAMW, .help = "Optimizer."},
    [F_OPTIMIZER_LR] = {"optimizer.lr", .type = TYPE_REAL, MEMBER(optimizer.lr), .min = 0, .max = INFINITY,
                        .min_open = true, .max_open = true, .default_value = 0.01,
                        .help = "Learning rate (after warmup)."},
    [F_OPTIMIZER_WEIGHT_DECAY] = {"optimizer.weight_decay", .type = TYPE_REAL, MEMBER(optimizer.weight_decay),
                                  .min = 0, .max = INFINITY, .max_open = true, .default_value = 1.0,
                                  .help = "Weight decay coefficient."},
    [F_OPTIMIZER_BETAS] = {"optimizer.betas", .type = TYPE_REAL_PAIR, MEMBER(optimizer.beta1),
                           .second_offset = offsetof(RunConfig, optimizer.beta2), .min = 0, .max = 1,
                           .max_open = true, .default_value = 0.9, .default_second = 0.98, ADAMW_ONLY,
                           .help = "Adam decay rates [beta1, beta2] of the moment estimates."},
    [F_OPTIMIZER_EPS] = {"optimizer.eps", .type = TYPE_REAL, MEMBER(optimizer.eps), .min = 0, .max = INFINITY,
                         .min_open = true, .max_open = true, .default_value = 1e-8, ADAMW_ONLY,
                         .help = "Adam epsilon added to the denominator."},
    [F_OPTIMIZER_WARMUP_STEPS] = {"optimizer.warmup_steps", INT_RANGE(0, 1e9), MEMBER(optimizer.warmup_steps),
                                  .default_value = 0,
                                  .help = "Steps of linear learning-rate warmup (0 = none)."},
    [F_OPTIMIZER_MOMENTUM] = {"optimizer.momentum", .type = TYPE_REAL, MEMBER(optimizer.momentum), .min = 0,
                              .max = 1, .max_open = true, .default_value = 0.9, SGD_ONLY,
                              .help = "SGD momentum."},
    [F_TRAIN_STEPS] = {"train.steps", INT_RANGE(1, 1e9), MEMBER(train.steps), .default_value = 3000,
                       .help = "Number of optimizer steps."},
    [F_TRAIN_BATCH_SIZE] = {"train.batch_size", INT_RANGE(0, 1e9), MEMBER(train.batch_size),
                            .default_value = 0,
                            .help = "Examples per step; 0, or a value larger than the training set, "
                                    "means full batch."},
    [F_TRAIN_EVAL_EVERY] = {"train.eval_every", INT_RANGE(1, 1e9), MEMBER(train.eval_every),
                            .default_value = 10, .help = "Evaluate on train and test sets every this many steps."},
    [F_TRAIN_SEED] = {"train.seed", INT_RANGE(0, 2147483647), MEMBER(train.seed), .default_value = 0,
                      .help = "Random seed of the run."},
    [F_TRAIN_EARLY_STOP_TEST_ACC] = {"train.early_stop.test_acc", .type = TYPE_REAL,
                                     MEMBER(train.early_stop_test_acc), .min = 0, .max = 1, .min_open = true,
                                     .default_value = 0.99,
                                     .help = "Test accuracy that counts towards early stopping."},
    [F_TRAIN_EARLY_STOP_PATIENCE] = {"train.early_stop.patience", INT_RANGE(0, 1e9),
                                     MEMBER(train.early_stop_patience), .default_value = 0,
                                     .help = "Stop once test accuracy has been >= test_acc for this many "
                                             "consecutive evaluations (0 = never stop early)."},
    [F_TRAIN_FIXED_NORM] = {"train.fixed_norm", .type = TYPE_BOOL, MEMBER(train.fixed_norm), .default_value = 0,
                            .help = "Norm-constrained training (Omnigrok): after every update rescale all "
                                    "parameters together to the global L2 norm they had at initialization."},
    [F_TRAIN_FEATURE_RANK] = {"train.feature_rank", .type = TYPE_BOOL, MEMBER(train.feature_rank),
                              .default_value = 0,
                              .help = "Record at every evaluation the rank of the covariance of each hidden "
                                      "layer's activations on the test set (Fan et al. 2024); mlp only."},
    [F_TRAIN_FEATURE_RANK_SAMPLES] = {"train.feature_rank_samples", INT_RANGE(2, 65536),
                                      MEMBER(train.feature_rank_samples), .default_value = 1000,
                                      .help = "Test examples (the first ones) the feature covariance is taken "
                                              "over; fewer when the test set is smaller."},
    [F_PHASE_THRESHOLD] = {"phase.threshold", .type = TYPE_REAL, MEMBER(phase.threshold), .min = 0, .max = 1,
                           .min_open = true, .default_value = 0.9,
                           .help = "Accuracy at which the train or test set counts as learned when the "
                                   "run's phase is classified."},
    [F_PHASE_DELAY_STEPS] = {"phase.delay_steps", INT_RANGE(0, 1e9), MEMBER(phase.delay_steps),
                             .default_value = 1000,
                             .help = "Steps from learning the train set to learning the test set beyond "
                                     "which the run counts as grokking."},
    [F_TICKET_KEPT_FRACTION] = {"ticket.kept_fraction", .type = TYPE_REAL, MEMBER(ticket.kept_fraction), .min = 0,
                                .max = 1, .min_open = true, .default_value = 1,
                                .help = "Lottery ticket (Minegishi et al. 2024): the fraction of the weight and "
                                        "embedding matrices kept when the dense run's final weights are pruned "
                                        "globally by magnitude (biases and LayerNorm are never pruned); the kept "
                                        "weights are rewound to that run's initial values and trained with the "
                                        "rest held at zero. 1 = no ticket: the dense network of this config."},
    [F_TICKET_CONTROL] = {"ticket.control", ENUM_OF(ticket_control_name_of, TICKET_CONTROL_COUNT),
                          MEMBER(ticket.control), .default_value = TICKET_CONTROL_TICKET,
                          .help = "With ticket.kept_fraction < 1, train the ticket, or its control: the dense "
                                  "network with its initial weights scaled to the ticket's initial L2 norm."},
    [F_TICKET_SOURCE] = {"ticket.source", ENUM_OF(ticket_source_name_of, TICKET_SOURCE_COUNT), MEMBER(ticket.source),
                         .default_value = TICKET_SOURCE_TRAIN,
                         .help = "Where the pruned dense run comes from: trained first, with this config and "
                                 "seed, for ticket.source_steps steps (no early stop); or the initial and final "
                                 "weights in the file ticket.weights."},
    [F_TICKET_SOURCE_STEPS] = {"ticket.source_steps", INT_RANGE(1, 1e9), MEMBER(ticket.source_steps),
                               .default_note = "train.steps", .selector = F_TICKET_SOURCE,
                               .selector_mask = 1u << TICKET_SOURCE_TRAIN,
                               .help = "Steps of the dense run whose final weights are pruned."},
    [F_TICKET_WEIGHTS] = {"ticket.weights", .type = TYPE_PATH, MEMBER(ticket.weights), .default_text = "",
                          .selector = F_TICKET_SOURCE, .selector_mask = 1u << TICKET_SOURCE_FILE,
                          .help = "Weights file of the dense run (groksweep train --save-weights) of a model of "
                                  "this config's shape."},
};

static int *int_member(RunConfig *cfg, size_t offset) { return (int *)(void *)((char *)cfg + offset); }
static double *double_member(RunConfig *cfg, size_t offset) { return (double *)(void *)((char *)cfg + offset); }
static bool *bool_member(RunConfig *cfg, size_t offset) { return (bool *)(void *)((char *)cfg + offset); }
static int int_value(const RunConfig *cfg, size_t offset) {
    return *(const int *)(const void *)((const char *)cfg + offset);
}
static double double_value(const RunConfig *cfg, size_t offset) {
    return *(const double *)(const void *)((const char *)cfg + offset);
}
static bool bool_value(const RunConfig *cfg, size_t offset) {
    return *(const bool *)(const void *)((const char *)cfg + offset);
}
static char *path_member(RunConfig *cfg, size_t offset) { return (char *)cfg + offset; }
static const char *path_value(const RunConfig *cfg, size_t offset) { return (const char *)cfg + offset; }

/* Store every field's table default into *cfg. Kind-dependent defaults are
 * left at their mlp value (init_std at 0) for resolve_kind_defaults(). */
static void apply_table_defaults(RunConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    for (int id = 0; id < FIELD_COUNT; id++) {
        const Field *f = &fields[id];
        switch (f->type) {
        case TYPE_INT:
        case TYPE_ENUM: *int_member(cfg, f->offset) = (int)f->default_value; break;
        case TYPE_REAL: *double_member(cfg, f->offset) = f->default_value; break;
        case TYPE_BOOL: *bool_member(cfg, f->offset) = f->default_value != 0; break;
        case TYPE_REAL_PAIR:
            *double_member(cfg, f->offset) = f->default_value;
            *double_member(cfg, f->second_offset) = f->default_second;
            break;
        case TYPE_PATH: snprintf(path_member(cfg, f->offset), DATA_PATH_CAPACITY, "%s", f->default_text); break;
        }
    }
}

/* Fill in the defaults that depend on task.kind, model.kind (and
 * model.width) for the fields not explicitly set. An MLP on token inputs
 * defaults to Gromov's recipe, on dense inputs to PyTorch's nn.Linear MLP
 * (Omnigrok). */
static void resolve_kind_defaults(RunConfig *cfg, const bool set[FIELD_COUNT]) {
    bool transformer = cfg->model.kind == MODEL_TRANSFORMER, arithmetic = task_is_algebraic(cfg->task.kind);
    if (cfg->task.kind == TASK_S5) {
        if (!set[F_TASK_P]) cfg->task.arithmetic.p = S5_ORDER; /* a set p is refused: it does not apply */
        if (!set[F_TASK_OP]) cfg->task.arithmetic.op = OP_S5_COMPOSE;
    }
    bool concealed = arithmetic && cfg->task.arithmetic.concealed_bits > 0;
    if (!set[F_TASK_SEQUENCE]) cfg->task.arithmetic.sequence = transformer ? SEQUENCE_EQUALS : SEQUENCE_PAIR;
    if (!set[F_TASK_TRAIN_SIZE])
        cfg->task.train_size = cfg->task.kind == TASK_TEACHER_STUDENT ? 100 : cfg->task.kind == TASK_CARVALHO ? 400 : 1000;
    if (!set[F_TASK_TEST_SIZE])
        cfg->task.test_size = cfg->task.kind == TASK_TEACHER_STUDENT ? 100 : cfg->task.kind == TASK_CARVALHO ? 10000 : 0;
    if (!set[F_MODEL_INPUT]) cfg->model.input = arithmetic && !concealed ? INPUT_ONEHOT : INPUT_DENSE;
    if (concealed && cfg->model.input == INPUT_ONEHOT) cfg->model.input = INPUT_DENSE; /* the task builds the one-hots */
    bool gromov_mlp = !transformer && arithmetic;
    if (!set[F_MODEL_ACTIVATION]) cfg->model.activation = gromov_mlp ? ACT_QUADRATIC : ACT_RELU;
    if (!set[F_MODEL_BIAS]) cfg->model.bias = !gromov_mlp;
    if (!set[F_MODEL_INIT_KIND])
        cfg->model.init_kind = !transformer && cfg->model.input == INPUT_DENSE ? INIT_PYTORCH : INIT_NORMAL;
    if (!set[F_MODEL_INIT_STD]) cfg->model.init_std = transformer ? 0.02 : 0.5 / cbrt(2.0 * cfg->model.width);
    if (!set[F_MODEL_FINAL_LAYERNORM]) cfg->model.final_layernorm = cfg->model.layernorm == LAYERNORM_PRE;
    if (!set[F_TICKET_SOURCE_STEPS]) cfg->ticket.source_steps = cfg->train.steps;
}

void config_defaults(RunConfig *cfg) {
    bool set[FIELD_COUNT] = {false};
    apply_table_defaults(cfg);
    resolve_kind_defaults(cfg, set);
}

/* Return the id of the field, among `id` and the selectors it depends on,
 * whose own condition fails for cfg (the outermost one first), or -1 when
 * the field applies. */
static int failed_condition(FieldId id, const RunConfig *cfg) {
    const Field *f = &fields[id];
    if (f->selector_mask == 0) return -1;
    int outer = failed_condition(f->selector, cfg);
    if (outer >= 0) return outer;
    int selected = int_value(cfg, fields[f->selector].offset);
    return (f->selector_mask >> selected & 1u) ? -1 : (int)id;
}

void config_format_real(double v, char *buf, size_t size) {
    ASSERT(buf != NULL && isfinite(v) && size >= 32);
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
}

/* Build a JSON number that prints as config_format_real() text. cJSON's own
 * printer is not used: it accepts a 15-digit text that is only within
 * DBL_EPSILON of the value, so 0.30000000000000004 would come back as 0.3.
 * NULL when memory runs out. */
static cJSON *exact_number(double v) {
    char text[32];
    config_format_real(v, text, sizeof text);
    return cJSON_CreateRaw(text);
}

/* Build the JSON value of a field as stored in cfg. NULL when memory runs out. */
static cJSON *field_to_json(const Field *f, const RunConfig *cfg) {
    switch (f->type) {
    case TYPE_INT: return cJSON_CreateNumber(int_value(cfg, f->offset));
    case TYPE_REAL: return exact_number(double_value(cfg, f->offset));
    case TYPE_BOOL: return cJSON_CreateBool(bool_value(cfg, f->offset));
    case TYPE_ENUM: return cJSON_CreateString(f->name_of(int_value(cfg, f->offset)));
    case TYPE_PATH: return cJSON_CreateString(path_value(cfg, f->offset));
    case TYPE_REAL_PAIR: {
        cJSON *pair = cJSON_CreateArray();
        size_t offsets[2] = {f->offset, f->second_offset};
        for (int i = 0; i < 2 && pair; i++) {
            cJSON *number = exact_number(double_value(cfg, offsets[i]));
            if (!number || !cJSON_AddItemToArray(pair, number)) {
                cJSON_Delete(number);
                cJSON_Delete(pair);
                pair = NULL;
            }
        }
        return pair;
    }
    }
    ASSERT(!"unknown field type");
    return NULL;
}

/* Write a JSON value as compact text into buf (size >= 4), cut with "..."
 * when longer than the buffer. */
static void format_json(const cJSON *item, char *buf, size_t size) {
    if (cJSON_IsNumber(item) && !isfinite(item->valuedouble)) { /* cJSON would print null */
        snprintf(buf, size, "%g", item->valuedouble);
        return;
    }
    error_fit_value(buf, size, item ? cJSON_PrintUnformatted(item) : NULL);
}

/* format_json() of a field's value in cfg. */
static void format_field_value(const Field *f, const RunConfig *cfg, char *buf, size_t size) {
    cJSON *item = field_to_json(f, cfg);
    format_json(item, buf, size);
    cJSON_Delete(item);
}

/* Describe the numeric range of a field: "in [0, 1)", "> 0", ">= 0". */
static void describe_range(const Field *f, char *buf, size_t size) {
    if (isinf(f->max))
        snprintf(buf, size, "%s %g", f->min_open ? ">" : ">=", f->min);
    else
        snprintf(buf, size, "in %c%g, %g%c", f->min_open ? '(' : '[', f->min, f->max, f->max_open ? ')' : ']');
}

/* Describe the values a field accepts, completing "must be ...". */
static void describe_allowed(const Field *f, char *buf, size_t size) {
    char range[64];
    describe_range(f, range, sizeof range);
    switch (f->type) {
    case TYPE_INT: snprintf(buf, size, "an integer in [%.0f, %.0f]", f->min, f->max); break;
    case TYPE_REAL: snprintf(buf, size, "a number %s", range); break;
    case TYPE_BOOL: snprintf(buf, size, "true or false"); break;
    case TYPE_REAL_PAIR: snprintf(buf, size, "an array of 2 numbers, each %s", range); break;
    case TYPE_PATH: snprintf(buf, size, "a file path (a non-empty string of at most %d bytes)", DATA_PATH_CAPACITY - 1); break;
    case TYPE_ENUM: {
        size_t used = (size_t)snprintf(buf, size, "one of");
        for (int v = 0; v < f->n_names && used < size; v++)
            used += (size_t)snprintf(buf + used, size - used, "%s \"%s\"", v ? "," : "", f->name_of(v));
        if (f->accepts_bool && used < size)
            snprintf(buf + used, size - used, ", or false (\"%s\") or true (\"%s\")", f->name_of(0), f->name_of(1));
        break;
    }
    }
}

/* Describe the condition under which a field applies:
 * model.input is "embed_add" or "embed_concat". */
static void describe_condition(const Field *f, char *buf, size_t size) {
    const Field *selector = &fields[f->selector];
    size_t used = (size_t)snprintf(buf, size, "%s is", selector->path);
    const char *separator = " ";
    for (int v = 0; v < selector->n_names && used < size; v++) {
        if (!(f->selector_mask >> v & 1u)) continue;
        used += (size_t)snprintf(buf + used, size - used, "%s\"%s\"", separator, selector->name_of(v));
        separator = " or ";
    }
}

static int field_by_path(const char *path) {
    for (int id = 0; id < FIELD_COUNT; id++)
        if (strcmp(fields[id].path, path) == 0) return id;
    return -1;
}

/* True when path names a section: a proper dotted prefix of some leaf. */
static bool is_section(const char *path) {
    size_t len = strlen(path);
    for (int id = 0; id < FIELD_COUNT; id++)
        if (strncmp(fields[id].path, path, len) == 0 && fields[id].path[len] == '.') return true;
    return false;
}

/* A direct member name of a section, pointing into a field path. */
typedef struct {
    const char *name;
    size_t len;
} KeyName;

/* Collect the distinct names of the direct members (leaves and subsections)
 * of a section ("" = top level) into keys[FIELD_COUNT], in schema order.
 * Returns their count. */
static int section_keys(const char *section, KeyName keys[FIELD_COUNT]) {
    size_t prefix_len = *section ? strlen(section) + 1 : 0;
    int count = 0;
    for (int id = 0; id < FIELD_COUNT; id++) {
        const char *path = fields[id].path;
        if (*section && !(strncmp(path, section, prefix_len - 1) == 0 && path[prefix_len - 1] == '.')) continue;
        const char *name = path + prefix_len;
        size_t len = strcspn(name, ".");
        bool seen = false;
        for (int k = 0; k < count && !seen; k++) seen = keys[k].len == len && memcmp(keys[k].name, name, len) == 0;
        if (!seen) keys[count++] = (KeyName){name, len};
    }
    return count;
}

/* Levenshtein distance between the string a and the first key_len bytes of
 * key (key_len < 32, as are all key names). */
static size_t edit_distance(const char *a, const char *key, size_t key_len) {
    size_t row[32], next[32];
    ASSERT(key_len < 32);
    for (size_t j = 0; j <= key_len; j++) row[j] = j;
    for (size_t i = 0; a[i]; i++) {
        next[0] = i + 1;
        for (size_t j = 0; j < key_len; j++) {
            size_t substitute = row[j] + (a[i] != key[j]);
            size_t erase = row[j + 1] + 1, insert = next[j] + 1;
            size_t best = substitute < erase ? substitute : erase;
            next[j + 1] = best < insert ? best : insert;
        }
        memcpy(row, next, sizeof row);
    }
    return row[key_len];
}

/* Largest edit distance from a name of name_len bytes at which a key is
 * suggested as what was meant. */
static size_t suggestion_limit(size_t name_len) { return name_len / 3 > 2 ? name_len / 3 : 2; }

/* Write the hint for an unknown member `name` of `section`: the nearest
 * valid key when it is close, otherwise the list of valid keys. */
static void unknown_key_hint(const char *section, const char *name, char *buf, size_t size) {
    KeyName keys[FIELD_COUNT];
    int count = section_keys(section, keys), best = -1;
    size_t best_distance = 0, limit = suggestion_limit(strlen(name));
    for (int k = 0; k < count; k++) {
        size_t distance = edit_distance(name, keys[k].name, keys[k].len);
        if (best < 0 || distance < best_distance) best = k, best_distance = distance;
    }
    const char *dot = *section ? "." : "";
    if (best >= 0 && best_distance <= limit) {
        snprintf(buf, size, "did you mean %s%s%.*s?", section, dot, (int)keys[best].len, keys[best].name);
        return;
    }
    size_t used = *section ? (size_t)snprintf(buf, size, "valid keys in %s:", section)
                           : (size_t)snprintf(buf, size, "valid top-level keys:");
    for (int k = 0; k < count && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, "%s %.*s", k ? "," : "", (int)keys[k].len, keys[k].name);
}

ConfigKeyType config_key_type(const char *path) {
    int id = field_by_path(path);
    if (id < 0) return CONFIG_KEY_NONE;
    switch (fields[id].type) {
    case TYPE_INT: return CONFIG_KEY_INT;
    case TYPE_REAL: return CONFIG_KEY_REAL;
    case TYPE_BOOL: return CONFIG_KEY_BOOL;
    case TYPE_ENUM:
    case TYPE_PATH: return CONFIG_KEY_STRING;
    case TYPE_REAL_PAIR: return CONFIG_KEY_ARRAY;
    }
    ASSERT(!"unknown field type");
    return CONFIG_KEY_NONE;
}

const char *config_enum_value_name(const RunConfig *cfg, const char *path) {
    int id = field_by_path(path);
    ASSERT(id >= 0 && fields[id].type == TYPE_ENUM);
    return fields[id].name_of(int_value(cfg, fields[id].offset));
}

void config_suggest_key(const char *name, const char *const *extra, int n_extra, char *buf, size_t size) {
    ASSERT(name && (extra || n_extra == 0) && buf && size > 0);
    const char *best = NULL;
    size_t best_distance = suggestion_limit(strlen(name)) + 1;
    for (int i = 0; i < n_extra + FIELD_COUNT; i++) {
        const char *candidate = i < n_extra ? extra[i] : fields[i - n_extra].path;
        size_t distance = edit_distance(name, candidate, strlen(candidate));
        const char *last = strrchr(candidate, '.');
        if (last) {
            size_t last_distance = edit_distance(name, last + 1, strlen(last + 1));
            if (last_distance < distance) distance = last_distance;
        }
        if (distance < best_distance) best = candidate, best_distance = distance;
    }
    snprintf(buf, size, "%s", best ? best : "");
}

/* Line and column (both from 1) of position `at` in text. */
static void text_position(const char *text, const char *at, int *line, int *column) {
    *line = 1;
    *column = 1;
    for (const char *c = text; c < at && *c; c++) {
        if (*c == '\n') {
            ++*line;
            *column = 1;
        } else {
            ++*column;
        }
    }
}

/* State of one config_parse() call. */
typedef struct {
    RunConfig cfg;           /* being filled; copied out on success */
    bool set[FIELD_COUNT];   /* explicitly given in the JSON or by --set */
    bool overridden[FIELD_COUNT]; /* given by --set */
    const char *source;      /* names the input in messages */
    char *err;
    size_t errlen;
} Parser;

/* Where a field's value came from, for messages: "--set" or the source. */
static const char *origin(const Parser *ps, const Field *f) {
    return ps->overridden[f - fields] ? "--set" : ps->source;
}

/* Report that a field's JSON value is not one it accepts. Returns -1. */
static int reject_value(Parser *ps, const Field *f, const cJSON *item) {
    char value[VALUE_TEXT_CAPACITY], allowed[LIST_TEXT_CAPACITY];
    format_json(item, value, sizeof value);
    describe_allowed(f, allowed, sizeof allowed);
    return error_format(ps->err, ps->errlen, "%s: %s = %s: must be %s", origin(ps, f), f->path, value, allowed);
}

/* Report an unknown member `name` of `section` holding `item`. Returns -1. */
static int reject_unknown_key(Parser *ps, const char *section, const char *name, const cJSON *item) {
    char value[VALUE_TEXT_CAPACITY], hint[LIST_TEXT_CAPACITY];
    format_json(item, value, sizeof value);
    unknown_key_hint(section, name, hint, sizeof hint);
    return error_format(ps->err, ps->errlen, "%s: unknown key %s%s%s = %s (%s)", ps->source, section,
                       *section ? "." : "", name, value, hint);
}

/* True when the number v lies within the field's range. */
static bool in_range(const Field *f, double v) {
    if (!isfinite(v)) return false;
    if (v < f->min || (f->min_open && v == f->min)) return false;
    return !(v > f->max || (f->max_open && v == f->max));
}

/* Type-check and range-check the JSON value of one leaf and store it in
 * ps->cfg. Returns 0, or -1 with the message written. */
static int parse_leaf(Parser *ps, FieldId id, const cJSON *item) {
    const Field *f = &fields[id];
    switch (f->type) {
    case TYPE_INT:
        if (!cJSON_IsNumber(item) || !in_range(f, item->valuedouble) || item->valuedouble != floor(item->valuedouble))
            return reject_value(ps, f, item);
        *int_member(&ps->cfg, f->offset) = (int)item->valuedouble;
        return 0;
    case TYPE_REAL:
        if (!cJSON_IsNumber(item) || !in_range(f, item->valuedouble)) return reject_value(ps, f, item);
        *double_member(&ps->cfg, f->offset) = item->valuedouble;
        return 0;
    case TYPE_BOOL:
        if (!cJSON_IsBool(item)) return reject_value(ps, f, item);
        *bool_member(&ps->cfg, f->offset) = cJSON_IsTrue(item);
        return 0;
    case TYPE_ENUM:
        if (f->accepts_bool && cJSON_IsBool(item)) {
            *int_member(&ps->cfg, f->offset) = cJSON_IsTrue(item) ? 1 : 0;
            return 0;
        }
        if (cJSON_IsString(item)) {
            for (int v = 0; v < f->n_names; v++) {
                if (strcmp(item->valuestring, f->name_of(v)) == 0) {
                    *int_member(&ps->cfg, f->offset) = v;
                    return 0;
                }
            }
        }
        return reject_value(ps, f, item);
    case TYPE_REAL_PAIR: {
        const cJSON *first = cJSON_GetArrayItem(item, 0), *second = cJSON_GetArrayItem(item, 1);
        if (!cJSON_IsArray(item) || cJSON_GetArraySize(item) != 2 || !cJSON_IsNumber(first) ||
            !cJSON_IsNumber(second) || !in_range(f, first->valuedouble) || !in_range(f, second->valuedouble))
            return reject_value(ps, f, item);
        *double_member(&ps->cfg, f->offset) = first->valuedouble;
        *double_member(&ps->cfg, f->second_offset) = second->valuedouble;
        return 0;
    }
    case TYPE_PATH:
        if (!cJSON_IsString(item) || !item->valuestring[0] || strlen(item->valuestring) >= DATA_PATH_CAPACITY)
            return reject_value(ps, f, item);
        snprintf(path_member(&ps->cfg, f->offset), DATA_PATH_CAPACITY, "%s", item->valuestring);
        return 0;
    }
    ASSERT(!"unknown field type");
    return -1;
}

/* Validate the members of `object`, the JSON of section `section` ("" for
 * the top level): leaves are stored into ps->cfg and marked set, subsections
 * are recursed into; duplicate and unknown keys are errors. Returns 0 or -1. */
static int parse_section(Parser *ps, const cJSON *object, const char *section) {
    for (const cJSON *member = object->child; member; member = member->next) {
        const char *name = member->string;
        for (const cJSON *earlier = object->child; earlier != member; earlier = earlier->next)
            if (strcmp(earlier->string, name) == 0)
                return error_format(ps->err, ps->errlen, "%s: duplicate key %s%s%s", ps->source, section,
                                   *section ? "." : "", name);
        char path[PATH_CAPACITY];
        int len = snprintf(path, sizeof path, "%s%s%s", section, *section ? "." : "", name);
        if (strchr(name, '.') || len < 0 || (size_t)len >= sizeof path)
            return reject_unknown_key(ps, section, name, member);
        int id = field_by_path(path);
        if (id >= 0) {
            if (parse_leaf(ps, (FieldId)id, member)) return -1;
            ps->set[id] = true;
        } else if (is_section(path)) {
            if (!cJSON_IsObject(member)) {
                char value[VALUE_TEXT_CAPACITY];
                format_json(member, value, sizeof value);
                return error_format(ps->err, ps->errlen, "%s: %s = %s: must be a JSON object", ps->source, path,
                                   value);
            }
            if (parse_section(ps, member, path)) return -1;
        } else {
            return reject_unknown_key(ps, section, name, member);
        }
    }
    return 0;
}

/* Write the names of the operations of task kind `kind` as a quoted list. */
static void list_operations(TaskKind kind, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int op = 0; op < OP_COUNT && used < size; op++) {
        if (operation_is_permutation((Operation)op) != (kind == TASK_S5)) continue;
        int n = snprintf(buf + used, size - used, "%s\"%s\"", used ? ", " : "", operation_name((Operation)op));
        used += n > 0 ? (size_t)n : 0;
    }
}

/* The task's own cross-field rules: an operation of the task's kind, p
 * prime for division and a split with both sets non-empty (arithmetic,
 * s5), non-empty test sets, and Carvalho's subclass shares within their
 * pools. Returns 0 or -1. */
static int check_task(Parser *ps) {
    const TaskConfig *task = &ps->cfg.task;
    char value[VALUE_TEXT_CAPACITY];
    if (task_is_algebraic(task->kind)) {
        const ArithmeticConfig *arith = &task->arithmetic;
        if (operation_is_permutation(arith->op) != (task->kind == TASK_S5)) {
            char allowed[LIST_TEXT_CAPACITY];
            list_operations(task->kind, allowed, sizeof allowed);
            return error_format(ps->err, ps->errlen, "%s: task.op = \"%s\": not an operation of task.kind \"%s\"; "
                                "must be one of %s", origin(ps, &fields[F_TASK_OP]), operation_name(arith->op),
                                task_kind_name(task->kind), allowed);
        }
        if (operation_needs_prime(arith->op) && !is_prime(arith->p))
            return error_format(ps->err, ps->errlen,
                                "%s: task.p = %d: must be prime, since task.op \"%s\" needs a prime",
                                origin(ps, &fields[F_TASK_P]), arith->p, operation_name(arith->op));
        int pairs = arithmetic_example_count(arith), train = arithmetic_train_count(arith);
        if (train < 1 || pairs - train < 1) {
            format_field_value(&fields[F_TASK_DATA_FRACTION], &ps->cfg, value, sizeof value);
            return error_format(ps->err, ps->errlen,
                                "%s: task.data_fraction = %s: the split of %d %s (%s%d) leaves %d "
                                "training and %d test examples; need at least 1 of each",
                                origin(ps, &fields[F_TASK_DATA_FRACTION]), value, pairs,
                                arith->draws > 0 ? "drawn examples" : "pairs",
                                task->kind == TASK_S5 ? "S5, order " : "task.p = ", arith->p, train, pairs - train);
        }
        return 0;
    }
    if (task->kind != TASK_IMAGES && task->test_size < 1)
        return error_format(ps->err, ps->errlen, "%s: task.test_size = 0: must be at least 1 for task.kind \"%s\"",
                            origin(ps, &fields[F_TASK_TEST_SIZE]), task_kind_name(task->kind));
    if (task->kind == TASK_CARVALHO) {
        char message[LIST_TEXT_CAPACITY];
        if (carvalho_check(&task->carvalho, task->train_size, task->test_size, message, sizeof message) != 0)
            return error_format(ps->err, ps->errlen, "%s: %s", ps->source, message);
    }
    return 0;
}

/* Check the rules that involve more than one field: keys set for a kind
 * they do not apply to, the task's rules, d_model divisible by n_heads,
 * models and losses that fit the task's examples. Returns 0 or -1. */
static int check_consistency(Parser *ps) {
    const RunConfig *cfg = &ps->cfg;
    char value[VALUE_TEXT_CAPACITY];
    for (int id = 0; id < FIELD_COUNT; id++) {
        int failed = ps->set[id] ? failed_condition((FieldId)id, cfg) : -1;
        if (failed < 0) continue;
        const Field *selector = &fields[fields[failed].selector];
        /* `--set model.kind=transformer` switches kind: keys the file gave
         * for the old kind no longer apply and are dropped. */
        if (ps->overridden[selector - fields] && !ps->overridden[id]) continue;
        char condition[LIST_TEXT_CAPACITY];
        describe_condition(&fields[failed], condition, sizeof condition);
        format_field_value(&fields[id], cfg, value, sizeof value);
        return error_format(ps->err, ps->errlen, "%s: %s = %s: applies only when %s (%s is \"%s\")",
                           origin(ps, &fields[id]), fields[id].path, value, condition, selector->path,
                           selector->name_of(int_value(cfg, selector->offset)));
    }
    if (check_task(ps) != 0) return -1;
    long evaluations = (long)cfg->train.steps / cfg->train.eval_every + 2;
    if (evaluations > CONFIG_MAX_EVALUATIONS)
        return error_format(ps->err, ps->errlen,
                            "%s: train.eval_every = %d: train.steps = %d makes %ld evaluations per run, more than the "
                            "%d a curve can hold; raise train.eval_every to at least %d",
                            origin(ps, &fields[F_TRAIN_EVAL_EVERY]), cfg->train.eval_every, cfg->train.steps,
                            evaluations, CONFIG_MAX_EVALUATIONS, cfg->train.steps / (CONFIG_MAX_EVALUATIONS - 2) + 1);
    const ModelConfig *model = &cfg->model;
    if (model->kind == MODEL_TRANSFORMER && model->d_model % model->n_heads != 0)
        return error_format(ps->err, ps->errlen, "%s: model.d_model = %d: must be divisible by model.n_heads = %d",
                           ps->source, model->d_model, model->n_heads);
    bool concealed = task_is_algebraic(cfg->task.kind) && cfg->task.arithmetic.concealed_bits > 0;
    if (concealed && (model->kind != MODEL_MLP || model->input != INPUT_DENSE))
        return error_format(ps->err, ps->errlen,
                            "%s: task.concealed_bits = %d: the bits are features beside the tokens' one-hots, which "
                            "only model.kind \"mlp\" with model.input \"onehot\" (or \"dense\") reads; model.kind "
                            "is \"%s\"%s%s%s",
                            origin(ps, &fields[F_TASK_CONCEALED_BITS]), cfg->task.arithmetic.concealed_bits,
                            model_kind_name(model->kind), model->kind == MODEL_MLP ? ", model.input \"" : "",
                            model->kind == MODEL_MLP ? input_kind_name(model->input) : "",
                            model->kind == MODEL_MLP ? "\"" : "");
    bool token_task = task_is_algebraic(cfg->task.kind) && !concealed;
    if (!token_task && model->kind != MODEL_MLP)
        return error_format(ps->err, ps->errlen,
                            "%s: model.kind = \"%s\": task.kind \"%s\" gives dense feature vectors, which only "
                            "model.kind \"mlp\" (with model.input \"dense\") reads",
                            origin(ps, &fields[F_MODEL_KIND]), model_kind_name(model->kind),
                            task_kind_name(cfg->task.kind));
    if (model->kind == MODEL_MLP && token_task == (model->input == INPUT_DENSE))
        return error_format(ps->err, ps->errlen, "%s: model.input = \"%s\": task.kind \"%s\" gives %s; must be %s",
                            origin(ps, &fields[F_MODEL_INPUT]), input_kind_name(model->input),
                            task_kind_name(cfg->task.kind), token_task ? "tokens" : "dense feature vectors",
                            token_task ? "\"onehot\", \"embed_add\" or \"embed_concat\"" : "\"dense\"");
    if (cfg->loss == LOSS_CROSS_ENTROPY && cfg->task.kind == TASK_TEACHER_STUDENT)
        return error_format(ps->err, ps->errlen,
                            "%s: loss = \"cross_entropy\": task.kind \"teacher_student\" has real-valued targets; "
                            "must be \"mse\"",
                            origin(ps, &fields[F_LOSS]));
    if (cfg->train.feature_rank && model->kind != MODEL_MLP)
        return error_format(ps->err, ps->errlen,
                            "%s: train.feature_rank = true: applies only when model.kind is \"mlp\" (model.kind is "
                            "\"%s\")",
                            origin(ps, &fields[F_TRAIN_FEATURE_RANK]), model_kind_name(model->kind));
    if (cfg->ticket.source == TICKET_SOURCE_FILE && !ps->set[F_TICKET_WEIGHTS])
        return error_format(ps->err, ps->errlen,
                            "%s: ticket.source = \"file\": needs ticket.weights, the weights file of the dense run",
                            origin(ps, &fields[F_TICKET_SOURCE]));
    return 0;
}

/* Make `item` the member `name` of object, replacing a member of that exact
 * name. Takes ownership of item (deleted on failure). Returns false when
 * memory runs out. */
static bool put_member(cJSON *object, const char *name, cJSON *item) {
    bool ok = cJSON_GetObjectItemCaseSensitive(object, name) ? cJSON_ReplaceItemInObjectCaseSensitive(object, name, item)
                                                             : cJSON_AddItemToObject(object, name, item);
    if (!ok) cJSON_Delete(item);
    return ok;
}

/* Store `value` at the dotted `path` (split in place) under the object
 * root, creating missing objects on the way; a non-object in the way is
 * replaced by an object. Takes ownership of value. Returns 0, or -1 when
 * memory runs out. */
static int set_at_path(cJSON *root, char *path, cJSON *value) {
    cJSON *parent = root;
    char *name = path;
    for (char *dot; (dot = strchr(name, '.')) != NULL; name = dot + 1) {
        *dot = '\0';
        cJSON *child = cJSON_GetObjectItemCaseSensitive(parent, name);
        if (!cJSON_IsObject(child)) {
            child = cJSON_CreateObject();
            if (!child || !put_member(parent, name, child)) {
                cJSON_Delete(value);
                return -1;
            }
        }
        parent = child;
    }
    return put_member(parent, name, value) ? 0 : -1;
}

/* True when the first len bytes of text form a dotted path: non-empty
 * names separated by single dots. */
static bool is_dotted_path(const char *text, size_t len) {
    if (len == 0 || text[0] == '.' || text[len - 1] == '.') return false;
    for (size_t i = 1; i < len; i++)
        if (text[i] == '.' && text[i - 1] == '.') return false;
    return true;
}

/* Apply "dotted.path=value" overrides to the JSON tree root (an object).
 * The value is parsed as JSON, or else taken as a string. Validation is
 * left to parse_section(). Returns 0 or -1. */
static int apply_overrides(Parser *ps, cJSON *root, const char *const *overrides, int n_overrides) {
    for (int i = 0; i < n_overrides; i++) {
        const char *arg = overrides[i];
        const char *equals = strchr(arg, '=');
        if (!equals || !is_dotted_path(arg, (size_t)(equals - arg)))
            return error_format(ps->err, ps->errlen, "--set %s: expected dotted.key=value, got \"%s\"", arg, arg);
        cJSON *value = cJSON_ParseWithOpts(equals + 1, NULL, true);
        if (!value) value = cJSON_CreateString(equals + 1);
        size_t path_len = (size_t)(equals - arg);
        char *path = malloc(path_len + 1);
        int rc = -1;
        if (value && path) {
            memcpy(path, arg, path_len);
            path[path_len] = '\0';
            int id = field_by_path(path);
            if (id >= 0) ps->overridden[id] = true;
            rc = set_at_path(root, path, value);
        } else {
            cJSON_Delete(value);
        }
        free(path);
        if (rc) return error_format(ps->err, ps->errlen, "%s: out of memory applying --set %s", ps->source, arg);
    }
    return 0;
}

int config_parse(RunConfig *cfg, const char *json_text, const char *source, const char *const *overrides,
                 int n_overrides, char *err, size_t errlen) {
    ASSERT(cfg && json_text && source && (overrides || n_overrides == 0) && (err || errlen == 0));
    Parser ps = {.source = source, .err = err, .errlen = errlen};
    if (config_check_text(json_text, source, err, errlen) != 0) return -1;
    apply_table_defaults(&ps.cfg);
    const char *error_at = NULL;
    cJSON *root = cJSON_ParseWithOpts(json_text, &error_at, true);
    if (!root) {
        int line, column;
        text_position(json_text, error_at ? error_at : json_text, &line, &column);
        return error_format(err, errlen, "%s: invalid JSON near line %d, column %d", source, line, column);
    }
    int rc = -1;
    if (!cJSON_IsObject(root)) {
        char value[VALUE_TEXT_CAPACITY];
        format_json(root, value, sizeof value);
        error_format(err, errlen, "%s: top level = %s: must be a JSON object", source, value);
    } else if (apply_overrides(&ps, root, overrides, n_overrides) == 0 && parse_section(&ps, root, "") == 0) {
        resolve_kind_defaults(&ps.cfg, ps.set);
        if (check_consistency(&ps) == 0) {
            memcpy(cfg, &ps.cfg, sizeof *cfg);
            rc = 0;
        }
    }
    cJSON_Delete(root);
    return rc;
}

struct ConfigTemplate {
    Parser parsed; /* after parse_section(), before the kind defaults and checks */
};

struct ConfigOverride {
    FieldId id;
    cJSON *value;
};

ConfigTemplate *config_template_new(const char *json_text, const char *source) {
    ASSERT(json_text && source);
    ConfigTemplate *base = calloc(1, sizeof *base);
    if (!base || config_check_text(json_text, source, NULL, 0) != 0) {
        free(base);
        return NULL;
    }
    Parser *ps = &base->parsed;
    ps->source = source;
    apply_table_defaults(&ps->cfg);
    cJSON *root = cJSON_ParseWithOpts(json_text, NULL, true);
    bool ok = cJSON_IsObject(root) && parse_section(ps, root, "") == 0;
    cJSON_Delete(root);
    if (!ok) {
        free(base);
        return NULL;
    }
    return base;
}

ConfigOverride *config_override_new(const char *override) {
    ASSERT(override);
    const char *equals = strchr(override, '=');
    char path[PATH_CAPACITY];
    if (!equals || (size_t)(equals - override) >= sizeof path) return NULL;
    memcpy(path, override, (size_t)(equals - override));
    path[equals - override] = '\0';
    int id = field_by_path(path);
    ConfigOverride *result = id >= 0 ? malloc(sizeof *result) : NULL;
    if (!result) return NULL;
    result->id = (FieldId)id;
    /* as apply_overrides() reads a value */
    result->value = cJSON_ParseWithOpts(equals + 1, NULL, true);
    if (!result->value) result->value = cJSON_CreateString(equals + 1);
    if (!result->value) {
        free(result);
        return NULL;
    }
    return result;
}

int config_template_apply(const ConfigTemplate *base, const ConfigOverride *const *overrides, int n,
                          RunConfig *cfg) {
    ASSERT(base && cfg && (overrides || n == 0));
    Parser ps;
    memcpy(&ps, &base->parsed, sizeof ps);
    ps.err = NULL;
    ps.errlen = 0;
    for (int i = 0; i < n; i++) {
        /* apply_overrides() then parse_section(): an override replaces the
         * file's value and counts as set. */
        if (parse_leaf(&ps, overrides[i]->id, overrides[i]->value) != 0) return -1;
        ps.set[overrides[i]->id] = true;
        ps.overridden[overrides[i]->id] = true;
    }
    resolve_kind_defaults(&ps.cfg, ps.set);
    if (check_consistency(&ps) != 0) return -1;
    memcpy(cfg, &ps.cfg, sizeof *cfg);
    return 0;
}

void config_template_free(ConfigTemplate *base) { free(base); }

void config_override_free(ConfigOverride *override) {
    if (!override) return;
    cJSON_Delete(override->value);
    free(override);
}

/* Read a whole file of at most CONFIG_MAX_BYTES into a NUL-terminated
 * malloc'd buffer, its length (excluding the terminator) in *size. NULL
 * with errno set on failure: EISDIR for a directory, EFBIG for a longer
 * file (or an endless one: a pipe, /dev/zero). */
static char *read_text_file(const char *path, size_t *size) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    struct stat info;
    if (fstat(fileno(file), &info) == 0 && S_ISDIR(info.st_mode)) {
        fclose(file);
        errno = EISDIR;
        return NULL;
    }
    size_t used = 0, capacity = 4096;
    char *text = malloc(capacity);
    int failure = ENOMEM;
    while (text) {
        used += fread(text + used, 1, capacity - 1 - used, file);
        if (ferror(file)) {
            failure = errno;
            break;
        }
        if (feof(file)) {
            text[used] = '\0';
            fclose(file);
            *size = used;
            return text;
        }
        if (used + 1 == capacity) {
            if (capacity > CONFIG_MAX_BYTES) {
                failure = EFBIG;
                break;
            }
            char *bigger = realloc(text, 2 * capacity);
            if (!bigger) break;
            text = bigger;
            capacity *= 2;
        }
    }
    free(text);
    fclose(file);
    errno = failure;
    return NULL;
}

int config_check_text(const char *text, const char *source, char *err, size_t errlen) {
    for (const char *c = strstr(text, "\\u"); c; c = strstr(c + 1, "\\u")) {
        size_t backslashes = 0;
        for (const char *b = c; b >= text && *b == '\\'; b--) backslashes++;
        bool escape = backslashes % 2 == 1; /* not the second half of an escaped backslash */
        if (escape && strncmp(c + 2, "0000", 4) == 0) {
            int line, column;
            text_position(text, c, &line, &column);
            return error_format(err, errlen,
                                "%s: invalid JSON near line %d, column %d: \\u0000 (a NUL character inside a "
                                "string) is not allowed",
                                source, line, column);
        }
    }
    return 0;
}

char *config_read_file(const char *path, char *err, size_t errlen) {
    ASSERT(path);
    size_t size;
    char *text = read_text_file(path, &size);
    if (!text) {
        if (errno == EFBIG)
            error_format(err, errlen, "%s: cannot read: longer than %d MiB, more than any config or sweep file", path,
                         CONFIG_MAX_BYTES >> 20);
        else
            error_format(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        return NULL;
    }
    if (strlen(text) != size) {
        int line, column;
        text_position(text, text + strlen(text), &line, &column);
        error_format(err, errlen, "%s: invalid JSON near line %d, column %d (NUL byte)", path, line, column);
        free(text);
        return NULL;
    }
    static const char bom[] = "\xEF\xBB\xBF"; /* a UTF-8 byte order mark, which editors may write */
    if (strncmp(text, bom, 3) == 0) memmove(text, text + 3, size - 2);
    return text;
}

int config_load(RunConfig *cfg, const char *path, const char *const *overrides, int n_overrides, char *err,
                size_t errlen) {
    char *text = config_read_file(path, err, errlen);
    if (!text) return -1;
    int rc = config_parse(cfg, text, path, overrides, n_overrides, err, errlen);
    free(text);
    return rc;
}

char *config_to_json(const RunConfig *cfg) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return NULL;
    for (int id = 0; id < FIELD_COUNT; id++) {
        if (failed_condition((FieldId)id, cfg) >= 0) continue;
        char path[PATH_CAPACITY];
        snprintf(path, sizeof path, "%s", fields[id].path);
        cJSON *value = field_to_json(&fields[id], cfg);
        if (!value || set_at_path(root, path, value) != 0) {
            cJSON_Delete(root);
            return NULL;
        }
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return text;
}

void config_help(void *stream) {
    FILE *out = stream;
    RunConfig defaults;
    config_defaults(&defaults);
    fputs("Keys are dotted paths into the JSON run file (\"optimizer.lr\" is {\"optimizer\": {\"lr\": ...}});\n"
          "each can also be given as --set key=value. A key marked \"only when\" must not be set otherwise.\n\n",
          out);
    fprintf(out, "  %-26s %-13s %s\n", "KEY", "DEFAULT", "ALLOWED");
    for (int id = 0; id < FIELD_COUNT; id++) {
        const Field *f = &fields[id];
        char default_text[VALUE_TEXT_CAPACITY], allowed[LIST_TEXT_CAPACITY], condition[LIST_TEXT_CAPACITY] = "";
        if (f->default_note)
            snprintf(default_text, sizeof default_text, "by kind");
        else
            format_field_value(f, &defaults, default_text, sizeof default_text);
        describe_allowed(f, allowed, sizeof allowed);
        if (f->selector_mask) describe_condition(f, condition, sizeof condition);
        fprintf(out, "  %-26s %-13s %s%s%s\n", f->path, default_text, allowed, f->selector_mask ? "; only when " : "",
                condition);
        fprintf(out, "      %s%s%s%s\n", f->help, f->default_note ? " Default: " : "",
                f->default_note ? f->default_note : "", f->default_note ? "." : "");
    }
}
