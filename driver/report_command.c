/* `groksweep report OUT.h5`: what a sweep's output file holds, for a person:
 * provenance, the grid, point counts, and terminal phase maps (rows x
 * columns, one panel per combination of the other axes, seeds aggregated)
 * with the grokking delay beside them. Works while the sweep still runs. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "commands.h"
#include "config.h"
#include "report.h"
#include "report_points.h"

#define DEFAULT_WIDTH 100
#define MIN_WIDTH 20

/* Cell categories in legend order; a tie between seeds goes to the first. */
enum { CAT_COMPREHENSION, CAT_GROKKING, CAT_MEMORIZATION, CAT_CONFUSION, CAT_DIVERGED, CAT_FAILED, N_CATS };
#define CAT_NOT_RUN N_CATS

static const char CAT_SYMBOLS[N_CATS + 1] = {'C', 'G', 'M', 'X', '!', 'F', '.'};
static const char *const CAT_NAMES[N_CATS + 1] = {"comprehension", "grokking", "memorization", "confusion",
                                                  "diverged",      "failed",   "not run"};
static const char *const CAT_COLORS[N_CATS + 1] = {"\033[32m", "\033[1;33m", "\033[34m", "\033[35m",
                                                   "\033[1;31m", "\033[31m", "\033[2m"};
/* An inferred cell: its phase's symbol in lower case, its colour dimmed. */
#define N_PHASE_CATS (CAT_CONFUSION + 1)
static const char *const INFERRED_COLORS[N_PHASE_CATS] = {"\033[2;32m", "\033[2;33m", "\033[2;34m", "\033[2;35m"};
#define COLOR_RESET "\033[0m"
#define MIXED_MARK '?'

static void print_report_help(FILE *out) {
    fprintf(out,
            "usage: groksweep report OUT.h5 [--rows AXIS] [--cols AXIS] [--format text|json|markdown]\n"
            "                        [--no-color | --color]\n"
            "       groksweep report OUT.h5 --point N\n"
            "       groksweep report OUT.h5 --base-config\n"
            "\n"
            "Summarize a sweep's output file: where it came from (groksweep version,\n"
            "creation time, MPI ranks, Slurm job), the grid, how many points are done,\n"
            "diverged, failed, inferred (not trained: adaptive refinement found its cell's\n"
            "corners in one phase) or not run, the compute time spent, terminal phase\n"
            "maps, and the points not done (failed, diverged, not run) with their\n"
            "coordinates.\n"
            "\n"
            "A phase map shows one character per grid cell:\n"
            "  C comprehension   G grokking   M memorization   X confusion\n"
            "  ! diverged        F failed     . not run\n"
            "  c g m x           inferred (not trained): the phase of its refinement cell\n"
            "Rows are the data axis (data_fraction, or train_size for the tasks that take a\n"
            "training-set size) or init_scale, columns weight_decay: a data x weight_decay\n"
            "map and an init_scale x weight_decay map, each when its row axis has more\n"
            "than one value (when weight_decay has one value, an init_scale x data map),\n"
            "with one panel for every combination of the other axes except seed. Seeds are aggregated: a cell shows the phase most of its\n"
            "seeds reached (among the seeds that ran; a tie goes to the phase listed\n"
            "first above), followed by ? when the seeds disagree; a cell none of whose seeds\n"
            "was trained shows the phase most of its inferred seeds have, in lower case.\n"
            "Beside each map (below it when the terminal is too narrow) is the grokking\n"
            "delay (none for inferred points): test_acc_step_90 -\n"
            "train_acc_step_90, the steps from 90%% train accuracy to 90%% test accuracy,\n"
            "median over the seeds that reached both (1.2k = 1200 steps; - where none did).\n"
            "\n"
            "The file may belong to a sweep that is still running or was interrupted: it\n"
            "is read without taking HDF5's file lock, points not yet written show as .,\n"
            "and a line says how many points are done.\n"
            "\n"
            "options:\n"
            "  --rows AXIS   one map with these rows (default: the data axis)\n"
            "  --cols AXIS   one map with these columns (default weight_decay); with --rows\n"
            "                or --cols any axis can be a map axis, seed too (then not aggregated)\n"
            "  --format F    text (default); markdown (the same in a fenced block, the points\n"
            "                not done as a table); json (the numbers: provenance, axes,\n"
            "                counts by status and phase, compute seconds, points not done)\n"
            "  --point N     one point (N counts from 0 in row-major order, the row of\n"
            "                groksweep export): coordinates, status, phase, crossings, time,\n"
            "                and the groksweep train command that reproduces it\n"
            "  --base-config the sweep's run config without its grid, as JSON (the\n"
            "                CONFIG.json that --point's command trains)\n"
            "  --no-color    no ANSI colours (default: colours when stdout is a terminal and\n"
            "                NO_COLOR is not set)\n"
            "  --color       ANSI colours even when stdout is not a terminal\n"
            "  --help        this text\n"
            "\n"
            "The map is as wide as $COLUMNS, else the terminal, else %d characters.\n"
            "\n"
            "exit status: 0 success; 1 I/O failure reading the file; 2 bad input (flags, a\n"
            "missing file, a file that is not a groksweep sweep output)\n",
            DEFAULT_WIDTH);
}

typedef enum { REPORT_TEXT, REPORT_JSON, REPORT_MARKDOWN } ReportFormat;

typedef struct {
    const char *path;
    const char *rows, *cols;
    int color; /* -1 auto, 0 off, 1 on */
    bool help, base_config;
    long point; /* --point: -1 when not given */
    ReportFormat format;
} ReportOptions;

static int parse_report_options(int argc, char **argv, ReportOptions *o) {
    memset(o, 0, sizeof *o);
    o->color = -1;
    o->point = -1;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            o->help = true;
        } else if (strcmp(arg, "--no-color") == 0) {
            o->color = 0;
        } else if (strcmp(arg, "--color") == 0) {
            o->color = 1;
        } else if (strcmp(arg, "--base-config") == 0) {
            o->base_config = true;
        } else if (strcmp(arg, "--point") == 0) {
            char *end = NULL;
            const char *value = i + 1 < argc ? argv[++i] : "(missing)";
            long n = strtol(value, &end, 10);
            if (end == value || *end || n < 0) {
                fprintf(stderr, "groksweep report: --point %s: must be a point's index (0, 1, ...: the row of "
                                "groksweep export)\n", value);
                return EXIT_BAD_INPUT;
            }
            o->point = n;
        } else if (strcmp(arg, "--format") == 0) {
            const char *value = i + 1 < argc ? argv[++i] : "(missing)";
            if (strcmp(value, "text") == 0) {
                o->format = REPORT_TEXT;
            } else if (strcmp(value, "json") == 0) {
                o->format = REPORT_JSON;
            } else if (strcmp(value, "markdown") == 0) {
                o->format = REPORT_MARKDOWN;
            } else {
                fprintf(stderr, "groksweep report: --format %s: must be text, json or markdown\n", value);
                return EXIT_BAD_INPUT;
            }
        } else if (strcmp(arg, "--rows") == 0 || strcmp(arg, "--cols") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "groksweep report: %s needs an axis name\n", arg);
                return EXIT_BAD_INPUT;
            }
            *(arg[2] == 'r' ? &o->rows : &o->cols) = argv[++i];
        } else if (arg[0] == '-' && arg[1] != '\0') {
            fprintf(stderr,
                    "groksweep report: unknown option %s (allowed: --rows, --cols, --format, --point, --base-config, "
                    "--no-color, --color, --help)\n",
                    arg);
            return EXIT_BAD_INPUT;
        } else if (o->path) {
            fprintf(stderr, "groksweep report: one OUT.h5 expected, got a second: %s\n", arg);
            return EXIT_BAD_INPUT;
        } else {
            o->path = arg;
        }
    }
    if (!o->help && !o->path) {
        fprintf(stderr, "groksweep report: missing OUT.h5 (usage: groksweep report OUT.h5)\n");
        return EXIT_BAD_INPUT;
    }
    return 0;
}

/* ---- the header ------------------------------------------------------------------------------ */

static int find_axis(const SweepSnapshot *s, const char *name) {
    for (int a = 0; a < s->n_axes; a++)
        if (strcmp(s->axes[a].name, name) == 0) return a;
    return -1;
}

static bool grid_varies(const SweepSnapshot *s, const char *prefix) {
    for (int a = 0; a < s->n_axes; a++)
        if (s->axes[a].path && strncmp(s->axes[a].path, prefix, strlen(prefix)) == 0) return true;
    return false;
}

/* The run config shared by the grid points (the sweep without its grid) and
 * the phase rule; nothing when the stored sweep does not parse. */
static void print_run(const SweepSnapshot *s) {
    if (!s->sweep_json) return;
    cJSON *root = cJSON_Parse(s->sweep_json);
    if (!root) return;
    cJSON_DeleteItemFromObjectCaseSensitive(root, "grid");
    char *base = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!base) return;
    RunConfig cfg;
    char err[512];
    int rc = config_parse(&cfg, base, "sweep", NULL, 0, err, sizeof err);
    free(base);
    if (rc != 0) return;
    char task[DATA_PATH_CAPACITY + 128];
    task_describe(&cfg.task, task, sizeof task);
    printf("task:      %s, %d steps evaluated every %d\n", task, cfg.train.steps, cfg.train.eval_every);
    printf("model:     %s", model_kind_name(cfg.model.kind));
    if (cfg.model.kind == MODEL_MLP)
        printf(" (%s, width %d, depth %d, %s)", input_kind_name(cfg.model.input), cfg.model.width, cfg.model.depth,
               activation_name(cfg.model.activation));
    else
        printf(" (%d layers, d_model %d, %d heads)", cfg.model.n_layers, cfg.model.d_model, cfg.model.n_heads);
    printf(", %s loss, %s\n", loss_name(cfg.loss), optimizer_name(cfg.optimizer.kind));
    if (grid_varies(s, "phase."))
        printf("rule:      the phase rule varies over the grid\n");
    else
        printf("rule:      threshold %g; grokking when test reaches it >= %d steps after train\n", cfg.phase.threshold,
               cfg.phase.delay_steps);
}

static void print_values(const ReportAxis *axis) {
    int shown = axis->length <= 10 ? axis->length : 6;
    for (int k = 0; k < shown; k++) printf("%s%s", k ? ", " : "", axis->labels[k]);
    if (shown < axis->length)
        printf(", ... (%d more) ..., %s, %s", axis->length - shown - 2, axis->labels[axis->length - 2],
               axis->labels[axis->length - 1]);
}

static void print_header(const SweepSnapshot *s, const char *path, long counts[5]) {
    printf("file:      %s\n", path);
    printf("written:   groksweep %s", s->groksweep_version ? s->groksweep_version : "(version unknown)");
    if (s->created) printf(", created %s", s->created);
    if (s->mpi_ranks >= 0) printf(", %d MPI rank%s", s->mpi_ranks, s->mpi_ranks == 1 ? "" : "s");
    if (s->slurm_job_id) printf(", Slurm job %s", s->slurm_job_id);
    printf("\n");
    print_run(s);
    size_t name_width = 4;
    for (int a = 0; a < s->n_axes; a++)
        if (strlen(s->axes[a].name) > name_width) name_width = strlen(s->axes[a].name);
    printf("grid:      %ld points, %d axes (name, length: values)\n", s->n_points, s->n_axes);
    for (int a = 0; a < s->n_axes; a++) {
        printf("  %-*s %4d: ", (int)name_width, s->axes[a].name, s->axes[a].length);
        print_values(&s->axes[a]);
        printf("\n");
    }
    long finished = counts[1] + counts[2] + counts[3];
    printf("points:    %ld done, %ld diverged, %ld failed, %ld not run", counts[1], counts[2], counts[3], counts[0]);
    if (counts[4] > 0) printf(", %ld inferred (not trained)", counts[4]);
    printf("\n");
    long phases[5] = {0}, inferred[5] = {0};
    for (long p = 0; p < s->n_points; p++) {
        if (s->status[p] == 1) phases[s->phase[p]]++;
        if (s->status[p] == 4) inferred[s->phase[p]]++;
    }
    printf("phases:    %ld comprehension, %ld grokking, %ld memorization, %ld confusion\n", phases[1], phases[2],
           phases[3], phases[4]);
    if (counts[4] > 0)
        printf("inferred:  %ld comprehension, %ld grokking, %ld memorization, %ld confusion (the phases of their "
               "refinement cells)\n", inferred[1], inferred[2], inferred[3], inferred[4]);
    if (finished + counts[4] < s->n_points) {
        printf("(sweep in progress or interrupted: %ld of %ld points done", finished, s->n_points);
        if (counts[4] > 0) printf(", %ld inferred", counts[4]);
        printf(")\n");
    }
    if (s->n_unsettled > 0)
        printf("(%ld point%s being written while read: shown as not run)\n", s->n_unsettled,
               s->n_unsettled == 1 ? " was" : "s were");
}

/* ---- phase maps ------------------------------------------------------------------------------ */

typedef struct {
    int category;    /* CAT_*, CAT_NOT_RUN */
    bool inferred;   /* no seed trained: category is the phase most inferred seeds have */
    bool mixed;      /* the seeds that ran (or, inferred, the seeds' inferred phases) disagree */
    char delay[16];  /* compact median delay, "-" when no seed generalized */
} Cell;

static int point_category(const SweepSnapshot *s, long p) {
    switch (s->status[p]) {
    case 1: return s->phase[p] - 1; /* 1..4 -> CAT_COMPREHENSION..CAT_CONFUSION */
    case 2: return CAT_DIVERGED;
    case 3: return CAT_FAILED;
    default: return CAT_NOT_RUN; /* not run, or inferred (see fill_cell) */
    }
}

/* Steps in at most 5 characters: 850, 1.2k, 12k, 1.2M. */
static void format_steps(double v, char *buf, size_t size) {
    double a = v < 0 ? -v : v;
    if (a < 999.5)
        snprintf(buf, size, "%.0f", v);
    else if (a < 9950)
        snprintf(buf, size, "%.1fk", v / 1000);
    else if (a < 999500)
        snprintf(buf, size, "%.0fk", v / 1000);
    else
        snprintf(buf, size, "%.1fM", v / 1e6);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const SweepSnapshot *s;
    int rows, cols, seed;      /* axis indices; seed -1 when not aggregated */
    int n_panel_axes;
    int panel_axes[REPORT_MAX_AXES];
    long n_panels;
    long stride[REPORT_MAX_AXES];
    Cell *cells;               /* (n_panels, rows, cols) */
    double *delays;            /* scratch, (seeds) */
} PhaseMap;

static void fill_cell(PhaseMap *m, long base, Cell *cell) {
    const SweepSnapshot *s = m->s;
    int n_seeds = m->seed >= 0 ? s->axes[m->seed].length : 1;
    long seed_stride = m->seed >= 0 ? m->stride[m->seed] : 0;
    int count[N_CATS] = {0}, inferred[N_PHASE_CATS] = {0}, n_delays = 0, n_trained = 0;
    for (int k = 0; k < n_seeds; k++) {
        long p = base + k * seed_stride;
        if (s->status[p] == 4) inferred[s->phase[p] - 1]++;
        int c = point_category(s, p);
        if (c == CAT_NOT_RUN) continue;
        count[c]++;
        n_trained++;
        if (s->status[p] == 1 && s->train_step_90[p] >= 0 && s->test_step_90[p] >= 0)
            m->delays[n_delays++] = (double)s->test_step_90[p] - (double)s->train_step_90[p];
    }
    /* trained seeds decide; without any, the inferred ones */
    cell->inferred = n_trained == 0;
    const int *votes = cell->inferred ? inferred : count;
    int best = CAT_NOT_RUN, kinds = 0;
    for (int c = 0; c < (cell->inferred ? N_PHASE_CATS : N_CATS); c++) {
        if (votes[c] == 0) continue;
        kinds++;
        if (best == CAT_NOT_RUN || votes[c] > votes[best]) best = c;
    }
    cell->inferred = cell->inferred && best != CAT_NOT_RUN;
    cell->category = best;
    cell->mixed = kinds > 1;
    if (n_delays == 0) {
        snprintf(cell->delay, sizeof cell->delay, "-");
    } else {
        qsort(m->delays, (size_t)n_delays, sizeof *m->delays, compare_doubles);
        double median = n_delays % 2 ? m->delays[n_delays / 2]
                                     : (m->delays[n_delays / 2 - 1] + m->delays[n_delays / 2]) / 2;
        format_steps(median, cell->delay, sizeof cell->delay);
    }
}

/* The point index of panel `panel`'s cell (i, j) at seed 0. */
static long cell_base(const PhaseMap *m, long panel, int i, int j) {
    long base = i * m->stride[m->rows] + j * m->stride[m->cols];
    for (int k = m->n_panel_axes - 1; k >= 0; k--) {
        int a = m->panel_axes[k];
        long length = m->s->axes[a].length;
        base += (panel % length) * m->stride[a];
        panel /= length;
    }
    return base;
}

static void print_panel_title(const PhaseMap *m, long panel) {
    const SweepSnapshot *s = m->s;
    int index[REPORT_MAX_AXES];
    for (int k = m->n_panel_axes - 1; k >= 0; k--) {
        int length = s->axes[m->panel_axes[k]].length;
        index[k] = (int)(panel % length);
        panel /= length;
    }
    for (int k = 0; k < m->n_panel_axes; k++) {
        const ReportAxis *axis = &s->axes[m->panel_axes[k]];
        printf("%s%s = %s", k ? ", " : "", axis->name, axis->labels[index[k]]);
    }
}

static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* The symbol and its mark; a blank mark is left out at the end of a line. */
static void print_symbol(const Cell *c, bool color, bool line_end) {
    if (color) printf("%s", c->inferred ? INFERRED_COLORS[c->category] : CAT_COLORS[c->category]);
    putchar(c->inferred ? tolower((unsigned char)CAT_SYMBOLS[c->category]) : CAT_SYMBOLS[c->category]);
    if (color) printf("%s", COLOR_RESET);
    if (c->mixed || !line_end) putchar(c->mixed ? MIXED_MARK : ' ');
}

/* Column widths: phase columns hold a symbol and a mark under the label's
 * last character; delay columns the widest number of the map. */
typedef struct {
    int label_width;   /* the row-label column */
    int *phase_width;  /* (cols) */
    int *delay_width;  /* (cols) */
    int phase_total, delay_total;
} Widths;

static void print_phase_block_row(const PhaseMap *m, const Widths *w, const Cell *row, bool color, bool line_end) {
    int n_cols = m->s->axes[m->cols].length;
    for (int j = 0; j < n_cols; j++) {
        printf("  %*s", w->phase_width[j] - 1, "");
        print_symbol(&row[j], color, line_end && j == n_cols - 1);
    }
}

static void print_delay_block_row(const PhaseMap *m, const Widths *w, const Cell *row) {
    int n_cols = m->s->axes[m->cols].length;
    for (int j = 0; j < n_cols; j++) printf("  %*s", w->delay_width[j], row[j].delay);
}

/* Phase columns leave room for the mark after the label, except at the end of a line. */
static void print_column_labels(const PhaseMap *m, const int *width, bool phase, bool line_end) {
    const ReportAxis *cols = &m->s->axes[m->cols];
    for (int j = 0; j < cols->length; j++)
        printf("  %*s%s", width[j], cols->labels[j], phase && !(line_end && j == cols->length - 1) ? " " : "");
}

/* One panel: the phase block and the delay block side by side, or one
 * above the other. */
static void print_panel(const PhaseMap *m, const Widths *w, long panel, bool side_by_side, bool color) {
    const SweepSnapshot *s = m->s;
    const ReportAxis *rows = &s->axes[m->rows], *cols = &s->axes[m->cols];
    const Cell *cells = m->cells + panel * rows->length * cols->length;
    for (int block = 0; block < (side_by_side ? 1 : 2); block++) {
        bool phase = block == 0, delay = side_by_side || block == 1;
        printf("  %-*s", w->label_width, "");
        if (side_by_side)
            printf("  %-*s    %s\n", w->phase_total - 2, "phase", "delay (steps)");
        else
            printf("  %s\n", phase ? "phase" : "delay (steps)");
        printf("  %-*s", w->label_width, cols->name);
        if (phase) print_column_labels(m, w->phase_width, true, !side_by_side);
        if (side_by_side) printf("  ");
        if (delay) print_column_labels(m, w->delay_width, false, true);
        printf("\n  %s\n", rows->name);
        for (int i = 0; i < rows->length; i++) {
            const Cell *row = cells + i * cols->length;
            printf("  %-*s", w->label_width, rows->labels[i]);
            if (phase) print_phase_block_row(m, w, row, color, !side_by_side);
            if (side_by_side) printf("  ");
            if (delay) print_delay_block_row(m, w, row);
            printf("\n");
        }
    }
}

static int terminal_width(void) {
    const char *columns = getenv("COLUMNS");
    if (columns && columns[0]) {
        char *end;
        long n = strtol(columns, &end, 10);
        if (*end == '\0' && n >= MIN_WIDTH && n <= 100000) return (int)n;
    }
#ifdef TIOCGWINSZ
    struct winsize size;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= MIN_WIDTH)
        return size.ws_col;
#endif
    return DEFAULT_WIDTH;
}

/* One map: rows x cols, a panel per combination of the remaining axes
 * (seed aggregated unless it is a map axis). Returns 0 or -1 (memory). */
static int print_map(const SweepSnapshot *s, int rows, int cols, bool color) {
    PhaseMap m;
    memset(&m, 0, sizeof m);
    m.s = s;
    m.rows = rows;
    m.cols = cols;
    int seed = find_axis(s, "seed");
    m.seed = seed != rows && seed != cols ? seed : -1;
    m.n_panels = 1;
    for (int a = s->n_axes - 1; a >= 0; a--)
        m.stride[a] = a == s->n_axes - 1 ? 1 : m.stride[a + 1] * s->axes[a + 1].length;
    for (int a = 0; a < s->n_axes; a++)
        if (a != rows && a != cols && a != m.seed) {
            m.panel_axes[m.n_panel_axes++] = a;
            m.n_panels *= s->axes[a].length;
        }
    const ReportAxis *row_axis = &s->axes[rows], *col_axis = &s->axes[cols];
    int n_rows = row_axis->length, n_cols = col_axis->length;
    int n_seeds = m.seed >= 0 ? s->axes[m.seed].length : 1;
    Widths w = {0};
    m.cells = malloc(sizeof *m.cells * (size_t)(m.n_panels * n_rows * n_cols));
    m.delays = malloc(sizeof *m.delays * (size_t)n_seeds);
    w.phase_width = malloc(sizeof(int) * (size_t)n_cols);
    w.delay_width = malloc(sizeof(int) * (size_t)n_cols);
    if (!m.cells || !m.delays || !w.phase_width || !w.delay_width) {
        free(m.cells);
        free(m.delays);
        free(w.phase_width);
        free(w.delay_width);
        return -1;
    }
    for (long panel = 0; panel < m.n_panels; panel++)
        for (int i = 0; i < n_rows; i++)
            for (int j = 0; j < n_cols; j++)
                fill_cell(&m, cell_base(&m, panel, i, j), &m.cells[(panel * n_rows + i) * n_cols + j]);

    size_t label = max_size(strlen(row_axis->name), strlen(col_axis->name));
    for (int i = 0; i < n_rows; i++) label = max_size(label, strlen(row_axis->labels[i]));
    w.label_width = (int)label;
    for (int j = 0; j < n_cols; j++) {
        size_t text = strlen(col_axis->labels[j]), delay = max_size(text, 1);
        for (long panel = 0; panel < m.n_panels; panel++)
            for (int i = 0; i < n_rows; i++)
                delay = max_size(delay, strlen(m.cells[(panel * n_rows + i) * n_cols + j].delay));
        w.phase_width[j] = (int)max_size(text, 1);
        w.delay_width[j] = (int)delay;
        w.phase_total += 2 + w.phase_width[j] + 1;
        w.delay_total += 2 + w.delay_width[j];
    }
    bool side_by_side = 2 + w.label_width + w.phase_total + 2 + w.delay_total <= terminal_width();

    printf("\n%s x %s", row_axis->name, col_axis->name);
    if (m.seed >= 0) printf(" (majority of %d seeds)", n_seeds);
    printf(":\n");
    for (long panel = 0; panel < m.n_panels; panel++) {
        if (m.n_panel_axes > 0) {
            printf("\n  ");
            print_panel_title(&m, panel);
            printf("\n");
        } else {
            printf("\n");
        }
        print_panel(&m, &w, panel, side_by_side, color);
    }
    free(m.cells);
    free(m.delays);
    free(w.phase_width);
    free(w.delay_width);
    return 0;
}

static void print_legend(bool aggregated, bool inferred) {
    printf("\nlegend:    ");
    for (int c = 0; c <= N_CATS; c++)
        printf("%s%c %s", c == 0 ? "" : c == CAT_DIVERGED ? ",\n           " : ", ", CAT_SYMBOLS[c], CAT_NAMES[c]);
    printf("\n");
    if (inferred) {
        printf("           ");
        for (int c = 0; c < N_PHASE_CATS; c++) printf("%c ", tolower((unsigned char)CAT_SYMBOLS[c]));
        printf("inferred (not trained): the phase of its refinement cell, in lower case\n");
    }
    if (aggregated)
        printf("           %c after a symbol: the seeds disagree (majority shown, ties to the first listed)\n",
               MIXED_MARK);
    printf("delay:     steps from train to test accuracy 0.9 (test_acc_step_90 - train_acc_step_90),\n"
           "           median over the seeds that reached both; - where none did\n");
    if (inferred) printf("           (inferred points were not trained: they have no delay)\n");
}

/* Axis index of an option's name, or -1 after printing the problem. */
static int option_axis(const SweepSnapshot *s, const char *path, const char *option, const char *name) {
    int a = find_axis(s, name);
    if (a >= 0) return a;
    fprintf(stderr, "groksweep report: %s %s: %s has no such axis (axes:", option, name, path);
    for (int k = 0; k < s->n_axes; k++) fprintf(stderr, "%s %s", k ? "," : "", s->axes[k].name);
    fprintf(stderr, ")\n");
    return -1;
}

int command_report(int argc, char **argv) {
    ReportOptions o;
    int status = parse_report_options(argc, argv, &o);
    if (status != 0) return status;
    if (o.help) {
        print_report_help(stdout);
        return 0;
    }
    SweepSnapshot s;
    char err[1024];
    status = report_read(o.path, &s, err, sizeof err);
    if (status != 0) {
        fprintf(stderr, "groksweep report: %s\n", err);
        return status;
    }

    if (o.point >= 0 || o.base_config || o.format == REPORT_JSON) {
        if (o.point >= 0)
            status = report_print_point(&s, o.path, o.point);
        else if (o.base_config)
            status = report_print_base_config(&s, o.path);
        else
            report_print_json(&s, o.path);
        report_snapshot_free(&s);
        if (status == 0 && (fflush(stdout) != 0 || ferror(stdout))) {
            fprintf(stderr, "groksweep report: cannot write the report to stdout\n");
            return EXIT_ENVIRONMENT;
        }
        return status;
    }

    /* the maps: chosen by --rows/--cols, else the defaults that apply */
    int maps[2][2] = {{0}}, n_maps = 0;
    const char *data_axis = find_axis(&s, "data_fraction") >= 0 ? "data_fraction" : "train_size";
    if (o.rows || o.cols) {
        int rows = option_axis(&s, o.path, "--rows", o.rows ? o.rows : data_axis);
        int cols = rows < 0 ? -1 : option_axis(&s, o.path, "--cols", o.cols ? o.cols : "weight_decay");
        if (rows < 0 || cols < 0) {
            report_snapshot_free(&s);
            return EXIT_BAD_INPUT;
        }
        if (rows == cols) {
            fprintf(stderr, "groksweep report: --rows and --cols are both %s; choose two axes\n", s.axes[rows].name);
            report_snapshot_free(&s);
            return EXIT_BAD_INPUT;
        }
        maps[n_maps][0] = rows;
        maps[n_maps++][1] = cols;
    } else {
        int cols = find_axis(&s, "weight_decay"), data = find_axis(&s, data_axis), alpha = find_axis(&s, "init_scale");
        const char *const row_names[] = {data_axis, "init_scale"};
        if (cols >= 0 && s.axes[cols].length == 1 && data >= 0 && alpha >= 0 && s.axes[data].length > 1 &&
            s.axes[alpha].length > 1) { /* Omnigrok's plane: init scale x data at one weight decay */
            maps[n_maps][0] = alpha;
            maps[n_maps++][1] = data;
            cols = -1;
        }
        for (int k = 0; k < 2 && cols >= 0; k++) {
            int rows = find_axis(&s, row_names[k]);
            if (rows >= 0 && s.axes[rows].length > 1) {
                maps[n_maps][0] = rows;
                maps[n_maps++][1] = cols;
            }
        }
        if (n_maps == 0 && s.n_axes >= 2) { /* a grid that varies neither: one map all the same */
            cols = find_axis(&s, "weight_decay");
            int rows = find_axis(&s, data_axis);
            if (rows < 0) rows = cols == 0 ? 1 : 0;
            if (cols < 0 || cols == rows) cols = rows == 0 ? 1 : 0;
            maps[n_maps][0] = rows;
            maps[n_maps++][1] = cols;
        }
    }

    long counts[5] = {0};
    for (long p = 0; p < s.n_points; p++) counts[s.status[p]]++;
    bool markdown = o.format == REPORT_MARKDOWN;
    if (markdown) printf("# groksweep report: %s\n\n```text\n", o.path);
    print_header(&s, o.path, counts);
    long timed = 0;
    double seconds = report_compute_seconds(&s, &timed);
    char took[32];
    report_format_duration(seconds, took, sizeof took);
    if (timed > 0) printf("compute:   %s of training over %ld points (%.3g s per point)\n", took, timed, seconds / timed);
    const char *no_color = getenv("NO_COLOR");
    bool color = !markdown && (o.color >= 0 ? o.color == 1 : isatty(STDOUT_FILENO) && !(no_color && no_color[0]));
    int seed = find_axis(&s, "seed");
    bool aggregated = false;
    for (int k = 0; k < n_maps; k++) aggregated |= seed >= 0 && seed != maps[k][0] && seed != maps[k][1];
    if (n_maps > 0) print_legend(aggregated, counts[4] > 0);
    for (int k = 0; k < n_maps; k++)
        if (print_map(&s, maps[k][0], maps[k][1], color) != 0) {
            fprintf(stderr, "groksweep report: out of memory for the phase map\n");
            report_snapshot_free(&s);
            return EXIT_ENVIRONMENT;
        }
    if (markdown) printf("```\n");
    report_print_not_done(&s, markdown);
    report_snapshot_free(&s);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "groksweep report: cannot write the report to stdout\n");
        return EXIT_ENVIRONMENT;
    }
    return 0;
}
