/* `groksweep merge A.h5 B.h5 ... -o OUT.h5`: sweep outputs of the same
 * config on disjoint or overlapping grids as one output over the union of
 * their grids. The inputs' journals are the source: each finished point is
 * copied to its place in the union grid; a point finished in two inputs
 * must have the same results (all but its wall time), or the merge is
 * refused. Grid points in no input are "not run": running the merged
 * sweep's own file (`groksweep report OUT.h5 --base-config` plus the union
 * grid, stored in OUT.h5's sweep attribute) on OUT.h5 trains them.
 *
 * Inferred points (never trained, so in no journal) come from the inputs'
 * files: a point trained in one input and inferred in another is the
 * trained one; a point inferred in two inputs with different phases is
 * "not run", neither guess being better than the other. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "commands.h"
#include "config.h"
#include "journal.h"
#include "output.h"
#include "output_lock.h"
#include "report.h"
#include "sweep_embed.h"
#include "train.h"

#ifndef GROKSWEEP_VERSION
#define GROKSWEEP_VERSION "unknown"
#endif

#define MAX_INPUTS 64

typedef struct {
    const char *path;
    char journal[4096];
    Sweep sweep;
    long *map;     /* (sweep.n_points) index in the union grid */
    int8_t *inferred; /* (sweep.n_points) the phase of an inferred point, 0 for any other */
    int mpi_ranks;
} Input;

typedef struct {
    Journal *target;
    const long *map;
    uint64_t *digest;    /* (union points) of each copied point's results, 0: none yet */
    unsigned char *packed;
    PointResult scratch;
    long copied, duplicates, conflict; /* conflict: a union point, or -1 */
    int failed;
    char *err;
    size_t errlen;
} Copy;

static void print_merge_help(FILE *out) {
    fprintf(out,
            "usage: groksweep merge A.h5 B.h5 [C.h5 ...] -o OUT.h5\n"
            "\n"
            "Merge sweep outputs of the same config (everything but the grid) whose grids\n"
            "have the same axes into one output over the union of their axis values. The\n"
            "inputs' journals (A.h5.journal, ...) hold the finished points; each goes to its\n"
            "place in the union grid; a point finished in two inputs must have the same\n"
            "results (its wall time aside) or the merge is refused. Grid points that no\n"
            "input ran are \"not run\", or inferred when an input inferred them (from the\n"
            "inputs' files: a trained point wins over an inferred one, and a point two\n"
            "inputs inferred in different phases is not run). OUT.h5 and OUT.h5.journal\n"
            "must not exist: the merged output resumes like any other (its sweep is stored\n"
            "in it: groksweep report OUT.h5 --base-config, plus the grid).\n"
            "\n"
            "exit status: 0 merged; 1 I/O failure; 2 bad input (flags, files that are not\n"
            "sweep outputs, different configs, conflicting points, an existing OUT.h5)\n");
}

static uint64_t fnv1a(const unsigned char *bytes, size_t size) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < size; i++) {
        h ^= bytes[i];
        h *= 0x100000001b3ULL;
    }
    return h ? h : 1;
}

/* Journal visit: copy one input point to the union journal, once. */
static void copy_point(long point, const PointResult *result, void *context) {
    Copy *c = context;
    if (c->failed || c->conflict >= 0) return;
    long q = c->map[point];
    /* the same run twice differs only in its wall time */
    PointResult *r = &c->scratch;
    float *curve = r->curve;
    memcpy(r, result, sizeof *r);
    r->curve = curve;
    memcpy(r->curve, result->curve, sizeof *curve * (size_t)(CURVE_SERIES + result->n_rank_layers) * result->n_eval);
    r->wall_seconds = 0;
    point_result_pack(r, c->packed);
    uint64_t digest = fnv1a(c->packed, point_result_size(result->n_eval, result->n_rank_layers));
    if (c->digest[q] != 0) {
        if (c->digest[q] == digest)
            c->duplicates++;
        else
            c->conflict = q;
        return;
    }
    c->digest[q] = digest;
    if (journal_append(c->target, q, result, c->err, c->errlen) != 0)
        c->failed = 1;
    else
        c->copied++;
}

typedef struct {
    OutputFile *output;
    int failed;
    char *err;
    size_t errlen;
} Build;

static void write_point(long point, const PointResult *result, void *context) {
    Build *b = context;
    if (!b->failed && output_write_point(b->output, point, result, b->err, b->errlen) != 0) b->failed = 1;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The union sweep's text: the first input's sweep with each grid member's
 * value replaced by the union of the inputs' values (numbers ascending,
 * exactly as written by config_format_real; strings in order of
 * appearance). NULL with a message on failure. */
static char *union_sweep_text(Input *inputs, int n, char *err, size_t errlen) {
    const Sweep *first = &inputs[0].sweep;
    long most = 0; /* values of the longest union axis, at most */
    for (int a = 0; a < first->n_axes; a++) {
        long total = 0;
        for (int i = 0; i < n; i++) total += inputs[i].sweep.axes[a].length;
        if (total > most) most = total;
    }
    ASSERT(most > 0); /* a sweep has axes, each with a value */
    cJSON *root = cJSON_Parse(first->text), *grid = cJSON_CreateObject();
    const cJSON *old_grid = root ? cJSON_GetObjectItemCaseSensitive(root, "grid") : NULL;
    double *numbers = malloc(sizeof *numbers * (size_t)most);
    const char **strings = malloc(sizeof *strings * (size_t)most);
    bool ok = old_grid && grid && numbers && strings;
    int a = 0;
    for (const cJSON *member = old_grid ? old_grid->child : NULL; ok && member; member = member->next, a++) {
        const SweepAxis *axis = &first->axes[a];
        long count = 0;
        for (int i = 0; i < n; i++) {
            const SweepAxis *other = &inputs[i].sweep.axes[a];
            for (int k = 0; k < other->length; k++) {
                bool seen = false;
                for (long j = 0; j < count && !seen; j++)
                    seen = axis->kind == AXIS_STRING ? strcmp(strings[j], other->strings[k]) == 0
                                                     : numbers[j] == other->numbers[k];
                if (seen) continue;
                if (axis->kind == AXIS_STRING)
                    strings[count++] = other->strings[k];
                else
                    numbers[count++] = other->numbers[k];
            }
        }
        if (axis->kind != AXIS_STRING) qsort(numbers, (size_t)count, sizeof *numbers, compare_doubles);
        cJSON *values = cJSON_CreateArray();
        ok = values && cJSON_AddItemToObject(grid, member->string, values);
        if (!ok) cJSON_Delete(values);
        for (long j = 0; ok && j < count; j++) {
            char number[64];
            if (axis->kind == AXIS_REAL || axis->kind == AXIS_INT) config_format_real(numbers[j], number, sizeof number);
            cJSON *item = axis->kind == AXIS_STRING ? cJSON_CreateString(strings[j])
                          : axis->kind == AXIS_BOOL ? cJSON_CreateBool(numbers[j] != 0)
                                                    : cJSON_CreateRaw(number); /* cJSON's printer can be one ulp off */
            ok = item && cJSON_AddItemToArray(values, item);
            if (!ok) cJSON_Delete(item);
        }
    }
    char *text = NULL;
    if (ok && cJSON_ReplaceItemInObjectCaseSensitive(root, "grid", grid)) {
        grid = NULL; /* root owns it */
        text = cJSON_PrintUnformatted(root);
    }
    if (!text && old_grid)
        snprintf(err, errlen, "out of memory for the union grid");
    else if (!text)
        snprintf(err, errlen, "%s: cannot read its sweep's grid", inputs[0].path);
    cJSON_Delete(grid);
    cJSON_Delete(root);
    free(numbers);
    free((void *)strings);
    return text;
}

/* Read input i: its sweep from the file, its journal's header checked. */
static int read_input(Input *in, char *kernel, size_t kernel_size, char *err, size_t errlen) {
    SweepSnapshot s;
    int rc = report_read(in->path, &s, err, errlen);
    if (rc != 0) return rc;
    in->mpi_ranks = s.mpi_ranks;
    char message[1024];
    rc = s.sweep_json ? sweep_parse(&in->sweep, s.sweep_json, in->path, message, sizeof message) : -1;
    if (rc != 0 || in->sweep.n_points != s.n_points) {
        report_snapshot_free(&s);
        snprintf(err, errlen, "%s: its sweep attribute cannot be read as the sweep of its grid", in->path);
        return EXIT_BAD_INPUT;
    }
    in->inferred = malloc((size_t)s.n_points);
    if (!in->inferred) {
        report_snapshot_free(&s);
        snprintf(err, errlen, "out of memory");
        return EXIT_ENVIRONMENT;
    }
    for (long p = 0; p < s.n_points; p++) in->inferred[p] = s.status[p] == POINT_INFERRED ? s.phase[p] : 0;
    report_snapshot_free(&s);
    uint64_t hash;
    long n_points;
    snprintf(in->journal, sizeof in->journal, "%s.journal", in->path);
    if (journal_read_header(in->journal, &hash, &n_points, kernel, kernel_size) != 0) {
        snprintf(err, errlen, "%s: cannot read it as a groksweep journal, and the merge reads the finished points "
                              "from it", in->journal);
        return EXIT_BAD_INPUT;
    }
    if (hash != in->sweep.hash || n_points != in->sweep.n_points) {
        snprintf(err, errlen, "%s: belongs to another sweep than %s records", in->journal, in->path);
        return EXIT_BAD_INPUT;
    }
    return 0;
}

int command_merge(int argc, char **argv) {
    const char *out_path = NULL;
    Input inputs[MAX_INPUTS];
    int n = 0;
    memset(inputs, 0, sizeof inputs);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_merge_help(stdout);
            return 0;
        }
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0] || out_path) {
                fprintf(stderr, "groksweep merge: %s needs one file path\n", argv[i]);
                return EXIT_BAD_INPUT;
            }
            out_path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "groksweep merge: unknown option %s (allowed: -o, --help)\n", argv[i]);
            return EXIT_BAD_INPUT;
        } else if (n == MAX_INPUTS) {
            fprintf(stderr, "groksweep merge: at most %d inputs\n", MAX_INPUTS);
            return EXIT_BAD_INPUT;
        } else {
            inputs[n++].path = argv[i];
        }
    }
    if (n < 2 || !out_path) {
        fprintf(stderr, "groksweep merge: %s (usage: groksweep merge A.h5 B.h5 [...] -o OUT.h5)\n",
                n < 2 ? "needs at least two inputs" : "missing -o OUT.h5");
        return EXIT_BAD_INPUT;
    }
    char err[2048] = "", journal_path[4096], temp_path[4096];
    if (snprintf(journal_path, sizeof journal_path, "%s.journal", out_path) >= (int)sizeof journal_path ||
        output_temp_path(out_path, temp_path, sizeof temp_path) != 0) {
        fprintf(stderr, "groksweep merge: -o %s: the path is too long\n", out_path);
        return EXIT_BAD_INPUT;
    }
    int status = 0;
    OutputLock lock = {-1};
    Journal target = {.fd = -1};
    bool journal_made = false;
    Copy copy = {.conflict = -1, .err = err, .errlen = sizeof err};
    OutputFile *output = NULL;
    Sweep merged;
    memset(&merged, 0, sizeof merged);
    char *text = NULL;
    int8_t *inferred = NULL; /* (union points) phase of an inferred point, 0 none, -1 inferred differently */
    long n_inferred = 0, n_disputed = 0;
    char kernel[32] = "", other_kernel[32];

    if (access(out_path, F_OK) == 0 || access(journal_path, F_OK) == 0) {
        snprintf(err, sizeof err, "-o %s: exists (or its journal does); the merge writes a new output, never over "
                                  "one", out_path);
        status = EXIT_BAD_INPUT;
        goto out;
    }
    if ((status = output_lock_acquire(&lock, out_path, err, sizeof err)) != 0) {
        status = status == -2 ? EXIT_BAD_INPUT : EXIT_ENVIRONMENT;
        goto out;
    }
    for (int i = 0; i < n && status == 0; i++) {
        status = read_input(&inputs[i], i ? other_kernel : kernel, sizeof kernel, err, sizeof err);
        if (status == 0 && i > 0 && strcmp(kernel, other_kernel) != 0) {
            snprintf(err, sizeof err, "%s ran with the OpenBLAS kernel %s, %s with %s: float results depend on the "
                     "kernel, so they are not one sweep", inputs[0].path, kernel, inputs[i].path, other_kernel);
            status = EXIT_BAD_INPUT;
        }
        if (status == 0 && i > 0 && (strcmp(inputs[i].sweep.base_json, inputs[0].sweep.base_json) != 0 ||
                                     inputs[i].sweep.n_axes != inputs[0].sweep.n_axes)) {
            snprintf(err, sizeof err, "%s and %s are sweeps of different configs (or different axes): only grids of "
                     "one config merge", inputs[0].path, inputs[i].path);
            status = EXIT_BAD_INPUT;
        }
    }
    if (status != 0) goto out;
    if (!(text = union_sweep_text(inputs, n, err, sizeof err))) {
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    char message[1024];
    if (sweep_parse(&merged, text, "the merged sweep", message, sizeof message) != 0) {
        snprintf(err, sizeof err, "%s", message);
        status = EXIT_BAD_INPUT;
        goto out;
    }
    for (int i = 0; i < n && status == 0; i++) {
        inputs[i].map = malloc(sizeof *inputs[i].map * (size_t)inputs[i].sweep.n_points);
        char why[512];
        if (!inputs[i].map) {
            snprintf(err, sizeof err, "out of memory");
            status = EXIT_ENVIRONMENT;
        } else if (sweep_embed(&inputs[i].sweep, &merged, inputs[i].map, why, sizeof why) != 0) {
            snprintf(err, sizeof err, "%s does not fit the merged grid: %s", inputs[i].path, why);
            status = EXIT_BAD_INPUT;
        }
    }
    if (status != 0) goto out;

    copy.digest = calloc((size_t)merged.n_points, sizeof *copy.digest);
    copy.packed = malloc(point_result_size(merged.n_eval, merged.n_rank_layers));
    if (!copy.digest || !copy.packed || point_result_init(&copy.scratch, merged.n_eval, merged.n_rank_layers) != 0) {
        snprintf(err, sizeof err, "out of memory for %ld points", merged.n_points);
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    if (journal_open(&target, journal_path, merged.hash, merged.n_points, merged.n_eval, merged.n_rank_layers, kernel,
                     NULL, NULL, err, sizeof err) != 0) {
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    journal_made = true;
    copy.target = &target;
    for (int i = 0; i < n && status == 0 && copy.conflict < 0 && !copy.failed; i++) {
        Journal source;
        copy.map = inputs[i].map;
        int opened = journal_open(&source, inputs[i].journal, inputs[i].sweep.hash, inputs[i].sweep.n_points,
                                  inputs[i].sweep.n_eval, inputs[i].sweep.n_rank_layers, kernel, copy_point, &copy, err,
                                  sizeof err);
        if (opened == 0) journal_close(&source);
        if (opened != 0) status = opened == -2 ? EXIT_BAD_INPUT : EXIT_ENVIRONMENT;
    }
    if (status == 0 && copy.failed) status = EXIT_ENVIRONMENT;
    if (status == 0 && copy.conflict >= 0) {
        char label[512];
        sweep_point_label(&merged, copy.conflict, label, sizeof label);
        snprintf(err, sizeof err, "the inputs hold point %s twice with different results: refusing to choose one",
                 label);
        status = EXIT_BAD_INPUT;
    }
    journal_close(&target);
    if (status != 0) goto out;
    if (!(inferred = calloc((size_t)merged.n_points, 1))) {
        snprintf(err, sizeof err, "out of memory for %ld points", merged.n_points);
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    for (int i = 0; i < n; i++)
        for (long p = 0; p < inputs[i].sweep.n_points; p++) {
            long q = inputs[i].map[p];
            int8_t phase = inputs[i].inferred[p];
            if (phase == 0 || copy.digest[q] != 0) continue; /* not inferred, or trained in some input */
            inferred[q] = inferred[q] == 0 || inferred[q] == phase ? phase : -1; /* -1: inferred differently */
        }

    /* the HDF5 file, from the merged journal, moved into place once whole */
    char created[32], command_line[512];
    output_time_now(created, sizeof created);
    int used = snprintf(command_line, sizeof command_line, "groksweep merge");
    for (int i = 0; i < n && used > 0 && (size_t)used < sizeof command_line; i++)
        used += snprintf(command_line + used, sizeof command_line - (size_t)used, " %s", inputs[i].path);
    if (used > 0 && (size_t)used < sizeof command_line)
        snprintf(command_line + used, sizeof command_line - (size_t)used, " -o %s", out_path);
    OutputProvenance provenance = {GROKSWEEP_VERSION, blas_config(), kernel, inputs[0].mpi_ranks, created,
                                   NULL, command_line};
    unlink(temp_path);
    if (!(output = output_create(temp_path, &merged, &provenance, err, sizeof err))) {
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    Build build = {output, 0, err, sizeof err};
    Journal reread;
    if (journal_open(&reread, journal_path, merged.hash, merged.n_points, merged.n_eval, merged.n_rank_layers, kernel,
                     write_point, &build, err, sizeof err) != 0) {
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    journal_close(&reread);
    for (long q = 0; q < merged.n_points && !build.failed; q++) {
        n_inferred += inferred[q] > 0;
        n_disputed += inferred[q] < 0;
        if (inferred[q] > 0) {
            point_result_inferred(&copy.scratch, inferred[q]);
            write_point(q, &copy.scratch, &build);
        }
    }
    if (build.failed || output_move(output, out_path, err, sizeof err) != 0) {
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    if (output_close(output, err, sizeof err) != 0) status = EXIT_ENVIRONMENT;
    output = NULL;
    if (status == 0) {
        fprintf(stderr, "groksweep merge: wrote %s: %ld points, %ld finished (%ld found in more than one input)",
                out_path, merged.n_points, copy.copied, copy.duplicates);
        if (n_inferred + n_disputed > 0)
            fprintf(stderr, ", %ld inferred, %ld not run because two inputs inferred different phases", n_inferred,
                    n_disputed);
        fprintf(stderr, "\n");
    }
out:
    if (output) {
        char ignored[256];
        output_close(output, ignored, sizeof ignored);
        unlink(temp_path);
    }
    if (status != 0 && journal_made) unlink(journal_path);
    if (status != 0) fprintf(stderr, "groksweep merge: %s\n", err);
    point_result_free(&copy.scratch);
    free(copy.digest);
    free(copy.packed);
    for (int i = 0; i < n; i++) {
        free(inputs[i].map);
        free(inputs[i].inferred);
        sweep_free(&inputs[i].sweep);
    }
    sweep_free(&merged);
    free(inferred);
    free(text);
    if (lock.fd >= 0) output_lock_release(&lock);
    return status;
}
