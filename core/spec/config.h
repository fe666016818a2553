/* Run configuration: one grid point, as `groksweep train` reads it.
 *
 * The JSON schema is a table of scalar leaves addressed by dotted paths
 * ("optimizer.weight_decay"). The same paths name `--set` overrides and, in
 * sweeps, grid axes. Every leaf has a documented default; see config_help(). */
#ifndef GROKSWEEP_CONFIG_H
#define GROKSWEEP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "loss.h"
#include "model_config.h"
#include "optimizer.h"
#include "task.h"

typedef struct {
    int steps;
    int batch_size;     /* 0 = full batch */
    int eval_every;
    int seed;
    double early_stop_test_acc;
    int early_stop_patience; /* 0 = no early stop */
    bool fixed_norm;         /* rescale the parameters to their initial norm after every update */
    bool feature_rank;       /* record each hidden layer's feature rank at every evaluation */
    int feature_rank_samples; /* test examples the feature covariance is taken over */
} TrainConfig;

typedef struct {
    double threshold;
    int delay_steps;
} PhaseConfig;

/* What a ticket run trains (Minegishi et al. 2024): the sparse network
 * itself, or the dense network started at the ticket's initial norm. */
typedef enum { TICKET_CONTROL_TICKET, TICKET_CONTROL_NORM_MATCHED, TICKET_CONTROL_COUNT } TicketControl;

/* Where the dense run that is pruned comes from: trained first by the run
 * itself, or a weights file (groksweep train --save-weights). */
typedef enum { TICKET_SOURCE_TRAIN, TICKET_SOURCE_FILE, TICKET_SOURCE_COUNT } TicketSource;

typedef struct {
    double kept_fraction;  /* of the prunable weights; 1 = no ticket, the dense run */
    TicketControl control;
    TicketSource source;
    int source_steps;      /* TICKET_SOURCE_TRAIN: steps of the dense run pruned */
    char weights[DATA_PATH_CAPACITY]; /* TICKET_SOURCE_FILE: the weights file */
} TicketConfig;

/* JSON names of the ticket enums ("ticket", "norm_matched"; "train", "file"). */
const char *ticket_control_name(TicketControl control);
const char *ticket_source_name(TicketSource source);

/* True when the run trains a ticket or its control rather than the dense
 * network of its config (kept_fraction < 1). */
bool ticket_active(const TicketConfig *ticket);

typedef struct {
    TaskConfig task;
    ModelConfig model;
    LossKind loss;
    OptimizerConfig optimizer;
    TrainConfig train;
    PhaseConfig phase;
    TicketConfig ticket;
} RunConfig;

/* Fill *cfg with the documented defaults (Gromov's recipe for modular
 * addition: p = 59, one-hot quadratic MLP, MSE, AdamW). */
void config_defaults(RunConfig *cfg);

/* Parse a run config from JSON text, applying `--set` overrides
 * (each "dotted.path=value", value parsed as JSON, else taken as a string)
 * before validation. Unknown or duplicate keys, wrong types, values out of
 * range and inconsistent combinations are rejected. Returns 0 on success;
 * otherwise writes one message naming the key, the value and what is allowed
 * into err (at most errlen bytes) and returns -1. `source` names the input
 * in messages (usually the file name). */
int config_parse(RunConfig *cfg, const char *json_text, const char *source,
                 const char *const *overrides, int n_overrides, char *err, size_t errlen);

/* A base config read once, and `--set` overrides read once, so that many
 * combinations of them (a grid's points) cost no JSON parsing each. */
typedef struct ConfigTemplate ConfigTemplate;
typedef struct ConfigOverride ConfigOverride;

/* Read json_text as config_parse does up to, not including, the rules that
 * involve overrides and more than one field. NULL when it fails (or memory
 * runs out); config_parse then gives the message. */
ConfigTemplate *config_template_new(const char *json_text, const char *source);

/* Read one "dotted.path=value" override of a config key. NULL when the path
 * is not a key (a section, say) or memory runs out: config_parse handles
 * those. */
ConfigOverride *config_override_new(const char *override);

/* Into *cfg, the config config_parse(cfg, template's text, source,
 * overrides' texts, n) would give, in a small fraction of its time. Returns
 * 0; or -1 with *cfg undefined and no message when config_parse would
 * reject the combination (call it for the message). */
int config_template_apply(const ConfigTemplate *base, const ConfigOverride *const *overrides, int n,
                          RunConfig *cfg);

void config_template_free(ConfigTemplate *base);
void config_override_free(ConfigOverride *override);

/* Read a file and parse it as config_parse does. An unreadable file is an
 * error naming the path and the reason. */
int config_load(RunConfig *cfg, const char *path, const char *const *overrides, int n_overrides,
                char *err, size_t errlen);

/* Write the fully resolved configuration as compact JSON (all keys, in
 * schema order) into a newly malloc'd string. Returns NULL on allocation
 * failure. config_parse of the result gives back the same config. */
char *config_to_json(const RunConfig *cfg);

/* Print the documentation of every key (path, type, default, allowed
 * values, meaning) to the stream. */
void config_help(void *stream);

/* The kind of value a config key holds, for sweeps that vary keys. */
typedef enum {
    CONFIG_KEY_NONE,   /* no key: an unknown path or a section */
    CONFIG_KEY_INT,
    CONFIG_KEY_REAL,
    CONFIG_KEY_BOOL,
    CONFIG_KEY_STRING, /* one of a list of names, or a file path */
    CONFIG_KEY_ARRAY   /* optimizer.betas */
} ConfigKeyType;

/* The kind of value of the key at a dotted path ("optimizer.lr"). */
ConfigKeyType config_key_type(const char *path);

/* The name of the value that cfg holds for the key at `path`, one of the
 * CONFIG_KEY_STRING keys with a list of names (not a file path). */
const char *config_enum_value_name(const RunConfig *cfg, const char *path);

/* Write into buf the candidate nearest to `name` in edit distance when it is
 * close enough to be a likely misspelling, else "". The candidates are the
 * n_extra names in extra (each shorter than 32 bytes), then the dotted path
 * of every key; a path also matches through its last component ("lr" finds
 * optimizer.lr). Earlier candidates win ties. */
void config_suggest_key(const char *name, const char *const *extra, int n_extra, char *buf, size_t size);

/* Write a finite v as the shortest "%.Ng" text that reads back as exactly v
 * (JSON number text; cJSON's own printer can be one ulp off). size >= 32. */
void config_format_real(double v, char *buf, size_t size);

/* Evaluations a run may record (train.steps / train.eval_every + 2 at most). */
#define CONFIG_MAX_EVALUATIONS 1000000

/* Config and sweep files are at most this long. */
#define CONFIG_MAX_BYTES (64 << 20)

/* Read a JSON text file of at most CONFIG_MAX_BYTES into a newly malloc'd
 * NUL-terminated string, without a leading UTF-8 byte order mark. NULL on
 * failure, with one message in err: "<path>: cannot read: <reason>" (a
 * directory, a longer or endless file), or invalid JSON at the position of
 * a NUL byte. */
char *config_read_file(const char *path, char *err, size_t errlen);

/* What cJSON accepts but a config must not hold: a \u0000 escape, which
 * would cut a string short ("x+y\u0000z" read as "x+y"). Returns 0, or -1
 * with a message naming the line and column. */
int config_check_text(const char *text, const char *source, char *err, size_t errlen);

#endif
