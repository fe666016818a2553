/* `groksweep export OUT.h5 [-o FILE] [--format csv|json] [--curves]`: a
 * sweep's output as one table for tools that read no HDF5: one row per grid
 * point (the axes' values, status and phase by name, every per-point
 * variable), or with --curves one row per point and evaluation (long form).
 * Missing values (a crossing never reached, a point not run or inferred)
 * are empty cells in CSV and null in JSON. Works on the file of a running
 * sweep. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <hdf5.h>
#include <hdf5_hl.h>

#include "commands.h"
#include "config.h"
#include "hdf5_error.h"
#include "report.h"

#define MAX_COLUMNS 64

static const char *const STATUS_NAMES[] = {"not_run", "done", "diverged", "failed", "inferred"};
static const char *const PHASE_NAMES[] = {"none", "comprehension", "grokking", "memorization", "confusion"};

typedef enum { FORMAT_CSV, FORMAT_JSON } ExportFormat;

typedef struct {
    const char *path, *output;
    ExportFormat format;
    bool curves, help;
} ExportOptions;

/* One exported column: a per-point variable, or a curve (--curves). */
typedef struct {
    char name[64];
    hid_t dataset;
    bool integer;      /* an integer variable: printed without a fraction */
    bool has_fill;
    double fill;       /* its _FillValue: a missing value */
    double *values;    /* per-point variables: (n_points); curves: (n_eval) of the current point */
} Column;

typedef struct {
    const char *path;
    const SweepSnapshot *s;
    hid_t file;
    int n_columns;
    Column columns[MAX_COLUMNS];
    int n_eval;
    double *eval_steps; /* (n_eval), with --curves */
    bool curves;
    char *err;
    size_t errlen;
} Export;

static void print_export_help(FILE *out) {
    fprintf(out,
            "usage: groksweep export OUT.h5 [-o FILE] [--format csv|json] [--curves]\n"
            "\n"
            "Write a sweep's output file as one table: a row per grid point with each\n"
            "axis's value, status and phase by name (not_run done diverged failed inferred;\n"
            "none comprehension grokking memorization confusion), the crossing steps, the\n"
            "grokking delays, the final losses and accuracies, the weight norm, the steps\n"
            "run and the wall time. A missing value (a crossing never reached, a point\n"
            "not run) is an empty cell in CSV and null in JSON. An inferred point was not\n"
            "trained: its phase is its refinement cell's, every other value is missing.\n"
            "\n"
            "options:\n"
            "  -o FILE          write to FILE (replaced only once complete); default stdout\n"
            "  --format F       csv (default) or json: {\"file\", \"sweep\", \"columns\", \"rows\"},\n"
            "                   rows as objects keyed by column\n"
            "  --curves         the curves instead, in long form: a row per point and\n"
            "                   evaluation (the axes, status, phase, eval_step and each curve)\n"
            "                   of the points that ran (not those not run or inferred)\n"
            "  --help           this text\n"
            "\n"
            "exit status: 0 written; 1 I/O failure; 2 bad input (flags, a missing file, a\n"
            "file that is not a groksweep sweep output)\n");
}

static int parse_export_options(int argc, char **argv, ExportOptions *o) {
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            o->help = true;
        } else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--output") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                fprintf(stderr, "groksweep export: %s needs a file path\n", arg);
                return EXIT_BAD_INPUT;
            }
            o->output = argv[++i];
        } else if (strcmp(arg, "--format") == 0) {
            const char *value = i + 1 < argc ? argv[++i] : "(missing)";
            if (strcmp(value, "csv") == 0) {
                o->format = FORMAT_CSV;
            } else if (strcmp(value, "json") == 0) {
                o->format = FORMAT_JSON;
            } else {
                fprintf(stderr, "groksweep export: --format %s: must be csv or json\n", value);
                return EXIT_BAD_INPUT;
            }
        } else if (strcmp(arg, "--curves") == 0) {
            o->curves = true;
        } else if (arg[0] == '-' && arg[1]) {
            fprintf(stderr, "groksweep export: unknown option %s (allowed: -o, --format, --curves, --help)\n", arg);
            return EXIT_BAD_INPUT;
        } else if (o->path) {
            fprintf(stderr, "groksweep export: one OUT.h5 expected, got a second: %s\n", arg);
            return EXIT_BAD_INPUT;
        } else {
            o->path = arg;
        }
    }
    if (!o->help && !o->path) {
        fprintf(stderr, "groksweep export: missing OUT.h5 (usage: groksweep export OUT.h5 [-o FILE])\n");
        return EXIT_BAD_INPUT;
    }
    return 0;
}

/* ---- reading --------------------------------------------------------------------------------- */

/* "path: what: HDF5's reason" into e->err; returns EXIT_ENVIRONMENT. */
__attribute__((format(printf, 2, 3))) static int h5_failed(Export *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    hdf5_error_vformat(e->err, e->errlen, e->path, fmt, ap);
    va_end(ap);
    return EXIT_ENVIRONMENT;
}

/* The dataset's _FillValue attribute, read as a double: true when present. */
static bool fill_value(hid_t dataset, double *fill) {
    if (H5Aexists(dataset, "_FillValue") <= 0) return false;
    hid_t attr = H5Aopen(dataset, "_FillValue", H5P_DEFAULT);
    bool ok = attr >= 0 && H5Aread(attr, H5T_NATIVE_DOUBLE, fill) >= 0;
    if (attr >= 0) H5Aclose(attr);
    return ok;
}

/* Whether dataset's shape is the grid's (per-point) or the grid's and then
 * eval_step (a curve). */
static void classify(const Export *e, hid_t dataset, bool *per_point, bool *curve) {
    *per_point = *curve = false;
    if (H5DSis_scale(dataset) > 0) return;
    hid_t space = H5Dget_space(dataset);
    if (space < 0) return;
    int rank = H5Sget_simple_extent_ndims(space);
    hsize_t dims[REPORT_MAX_AXES + 1];
    if (rank >= 1 && rank <= REPORT_MAX_AXES + 1 && H5Sget_simple_extent_dims(space, dims, NULL) == rank) {
        bool same = rank >= e->s->n_axes;
        for (int a = 0; same && a < e->s->n_axes; a++) same = dims[a] == (hsize_t)e->s->axes[a].length;
        *per_point = same && rank == e->s->n_axes;
        *curve = same && rank == e->s->n_axes + 1 && (int)dims[rank - 1] == e->n_eval;
    }
    H5Sclose(space);
}

typedef struct {
    Export *e;
    int rc;
} Visit;

/* H5Literate callback: every per-point variable (or, with --curves, every
 * curve over eval_step), in creation order. */
static herr_t add_column(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    Visit *v = data;
    Export *e = v->e;
    if (strcmp(name, "status") == 0 || strcmp(name, "phase") == 0) return 0;
    hid_t dataset = H5Dopen2(group, name, H5P_DEFAULT); /* fails on a group: not a column */
    if (dataset < 0) {
        H5Eclear2(H5E_DEFAULT);
        return 0;
    }
    bool per_point, curve;
    classify(e, dataset, &per_point, &curve);
    if ((e->curves ? !curve : !per_point) || strlen(name) >= sizeof e->columns[0].name) {
        H5Dclose(dataset);
        return 0;
    }
    if (e->n_columns == MAX_COLUMNS) {
        H5Dclose(dataset);
        return 0;
    }
    Column *c = &e->columns[e->n_columns++];
    snprintf(c->name, sizeof c->name, "%s", name);
    c->dataset = dataset;
    hid_t type = H5Dget_type(dataset);
    c->integer = type >= 0 && H5Tget_class(type) == H5T_INTEGER;
    if (type >= 0) H5Tclose(type);
    c->has_fill = fill_value(dataset, &c->fill);
    size_t count = e->curves ? (size_t)e->n_eval : (size_t)e->s->n_points;
    c->values = malloc(sizeof *c->values * (count ? count : 1));
    if (!c->values) {
        snprintf(e->err, e->errlen, "out of memory for %s", name);
        v->rc = EXIT_ENVIRONMENT;
        return -1;
    }
    if (!e->curves && H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, c->values) < 0) {
        v->rc = h5_failed(e, "reading %s", name);
        return -1;
    }
    return 0;
}

/* The eval_step coordinate, for --curves. */
static int read_eval_steps(Export *e) {
    hid_t dataset = H5Dopen2(e->file, "eval_step", H5P_DEFAULT);
    if (dataset < 0) {
        snprintf(e->err, e->errlen, "no eval_step coordinate, so no curves");
        return EXIT_BAD_INPUT;
    }
    hid_t space = H5Dget_space(dataset);
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    e->n_eval = (int)n;
    e->eval_steps = n > 0 ? malloc(sizeof *e->eval_steps * (size_t)n) : NULL;
    int rc = 0;
    if (n <= 0 || !e->eval_steps) {
        snprintf(e->err, e->errlen, "cannot read the eval_step coordinate");
        rc = EXIT_ENVIRONMENT;
    } else if (H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, e->eval_steps) < 0) {
        rc = h5_failed(e, "reading %s", "eval_step");
    }
    H5Dclose(dataset);
    return rc;
}

/* The curves of point p into each column's values. */
static int read_point_curves(Export *e, long p) {
    int k = e->s->n_axes;
    hsize_t start[REPORT_MAX_AXES + 1], count[REPORT_MAX_AXES + 1];
    long rest = p;
    for (int a = k - 1; a >= 0; a--) {
        start[a] = (hsize_t)(rest % e->s->axes[a].length);
        rest /= e->s->axes[a].length;
        count[a] = 1;
    }
    start[k] = 0;
    count[k] = (hsize_t)e->n_eval;
    hsize_t n = (hsize_t)e->n_eval;
    hid_t memory = H5Screate_simple(1, &n, NULL);
    int rc = memory < 0 ? h5_failed(e, "making a dataspace for %s", "a curve") : 0;
    for (int c = 0; c < e->n_columns && rc == 0; c++) {
        hid_t space = H5Dget_space(e->columns[c].dataset);
        if (space < 0 || H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(e->columns[c].dataset, H5T_NATIVE_DOUBLE, memory, space, H5P_DEFAULT, e->columns[c].values) < 0)
            rc = h5_failed(e, "reading %s", e->columns[c].name);
        if (space >= 0) H5Sclose(space);
    }
    if (memory >= 0) H5Sclose(memory);
    return rc;
}

/* ---- writing --------------------------------------------------------------------------------- */

static bool missing(const Column *c, double v) { return isnan(v) || (c->has_fill && v == c->fill); }

/* A number as CSV/JSON text: integers exactly, floats (float32 data) in the
 * shortest form that reads back as the same float32. */
static void format_number(const Column *c, double v, char *buf, size_t size) {
    if (c->integer || (v == floor(v) && fabs(v) < 1e15))
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%.9g", v);
    for (int digits = 6; !c->integer && digits < 9; digits++) {
        char shorter[64];
        snprintf(shorter, sizeof shorter, "%.*g", digits, v);
        if ((float)strtod(shorter, NULL) == (float)v) {
            snprintf(buf, size, "%s", shorter);
            break;
        }
    }
}

/* An axis value: numbers exactly as in the file, booleans and strings as text. */
static void format_axis_value(const ReportAxis *axis, int k, char *buf, size_t size, bool *is_text) {
    *is_text = !axis->numbers || strcmp(axis->labels[k], "true") == 0 || strcmp(axis->labels[k], "false") == 0;
    if (*is_text)
        snprintf(buf, size, "%s", axis->labels[k]);
    else
        config_format_real(axis->numbers[k], buf, size);
}

static void put_csv_text(FILE *out, const char *text) {
    if (!strpbrk(text, ",\"\n\r")) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *c = text; *c; c++) {
        if (*c == '"') fputc('"', out);
        fputc(*c, out);
    }
    fputc('"', out);
}

static void put_json_text(FILE *out, const char *text) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

/* One cell: a column's name and its text, as CSV or a JSON member. */
static void put_cell(FILE *out, ExportFormat format, bool first, const char *name, const char *text, bool quoted) {
    if (format == FORMAT_CSV) {
        if (!first) fputc(',', out);
        put_csv_text(out, text ? text : "");
        return;
    }
    fputs(first ? "{" : ", ", out);
    put_json_text(out, name);
    fputs(": ", out);
    if (!text)
        fputs("null", out);
    else if (quoted)
        put_json_text(out, text);
    else
        fputs(text, out);
}

static void put_header(FILE *out, const Export *e, ExportFormat format, const char *path) {
    const SweepSnapshot *s = e->s;
    const char *names[REPORT_MAX_AXES + MAX_COLUMNS + 3];
    int n = 0;
    for (int a = 0; a < s->n_axes; a++) names[n++] = s->axes[a].name;
    names[n++] = "status";
    names[n++] = "phase";
    if (e->curves) names[n++] = "eval_step";
    for (int c = 0; c < e->n_columns; c++) names[n++] = e->columns[c].name;
    if (format == FORMAT_CSV) {
        for (int i = 0; i < n; i++) {
            if (i) fputc(',', out);
            put_csv_text(out, names[i]);
        }
        fputc('\n', out);
        return;
    }
    fputs("{\"file\": ", out);
    put_json_text(out, path);
    fputs(", \"sweep\": ", out);
    if (s->sweep_json) {
        cJSON_bool valid = 0;
        cJSON *parsed = cJSON_Parse(s->sweep_json);
        char *compact = parsed ? cJSON_PrintUnformatted(parsed) : NULL;
        valid = compact != NULL;
        fputs(valid ? compact : "null", out);
        free(compact);
        cJSON_Delete(parsed);
    } else {
        fputs("null", out);
    }
    fputs(", \"columns\": [", out);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", out);
        put_json_text(out, names[i]);
    }
    fputs("], \"rows\": [\n", out);
}

/* The row (or, with --curves, the rows) of point p. */
static void put_point(FILE *out, const Export *e, ExportFormat format, long p, bool *first_row) {
    const SweepSnapshot *s = e->s;
    int indices[REPORT_MAX_AXES];
    long rest = p;
    for (int a = s->n_axes - 1; a >= 0; a--) {
        indices[a] = (int)(rest % s->axes[a].length);
        rest /= s->axes[a].length;
    }
    int rows = e->curves ? e->n_eval : 1;
    for (int k = 0; k < rows; k++) {
        if (format == FORMAT_JSON) fputs(*first_row ? "  " : ",\n  ", out);
        *first_row = false;
        char text[64];
        bool first = true;
        for (int a = 0; a < s->n_axes; a++) {
            bool is_text;
            format_axis_value(&s->axes[a], indices[a], text, sizeof text, &is_text);
            bool boolean = s->axes[a].numbers && is_text;
            put_cell(out, format, first, s->axes[a].name, text, is_text && !boolean);
            first = false;
        }
        int status = s->status[p] >= 0 && s->status[p] <= 4 ? s->status[p] : 0;
        int phase = s->phase[p] >= 0 && s->phase[p] <= 4 ? s->phase[p] : 0;
        put_cell(out, format, false, "status", STATUS_NAMES[status], true);
        put_cell(out, format, false, "phase", PHASE_NAMES[phase], true);
        if (e->curves) {
            snprintf(text, sizeof text, "%.0f", e->eval_steps[k]);
            put_cell(out, format, false, "eval_step", text, false);
        }
        for (int c = 0; c < e->n_columns; c++) {
            const Column *column = &e->columns[c];
            double v = column->values[e->curves ? k : p];
            if (!e->curves && (status == 0 || status == 4)) v = NAN; /* not run or inferred: no values */
            if (missing(column, v)) {
                put_cell(out, format, false, column->name, NULL, false);
            } else {
                format_number(column, v, text, sizeof text);
                put_cell(out, format, false, column->name, text, false);
            }
        }
        fputs(format == FORMAT_JSON ? "}" : "\n", out);
    }
}

/* ---- the command ----------------------------------------------------------------------------- */

static int export_all(Export *e, FILE *out, const ExportOptions *o) {
    put_header(out, e, o->format, o->path);
    bool first_row = true;
    for (long p = 0; p < e->s->n_points; p++) {
        if (e->curves) {
            if (e->s->status[p] == 0 || e->s->status[p] == 4) continue; /* not run or inferred: no curve */
            int rc = read_point_curves(e, p);
            if (rc != 0) return rc;
        }
        put_point(out, e, o->format, p, &first_row);
    }
    if (o->format == FORMAT_JSON) fputs("\n]}\n", out);
    return 0;
}

int command_export(int argc, char **argv) {
    ExportOptions o;
    int status = parse_export_options(argc, argv, &o);
    if (status != 0) return status;
    if (o.help) {
        print_export_help(stdout);
        return 0;
    }
    SweepSnapshot s;
    char err[1024] = "";
    status = report_read(o.path, &s, err, sizeof err);
    if (status != 0) {
        fprintf(stderr, "groksweep export: %s\n", err);
        return status;
    }
    Export e = {.path = o.path, .s = &s, .curves = o.curves, .err = err, .errlen = sizeof err};
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0) H5Pset_file_locking(fapl, 0, 1); /* a running sweep's file */
    e.file = fapl >= 0 ? H5Fopen(o.path, H5F_ACC_RDONLY, fapl) : H5I_INVALID_HID;
    if (fapl >= 0) H5Pclose(fapl);
    if (e.file < 0) status = h5_failed(&e, "opening the file");
    if (status == 0 && o.curves) status = read_eval_steps(&e);
    Visit visit = {&e, 0};
    if (status == 0) {
        hsize_t index = 0;
        herr_t iterated = H5Literate(e.file, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, add_column, &visit);
        if (iterated < 0 && visit.rc == 0) {
            index = 0; /* a file without creation order: names in alphabetical order */
            e.n_columns = 0;
            iterated = H5Literate(e.file, H5_INDEX_NAME, H5_ITER_INC, &index, add_column, &visit);
        }
        status = visit.rc ? visit.rc : iterated < 0 ? h5_failed(&e, "listing the variables") : 0;
    }

    char temp[4096] = "";
    FILE *out = stdout;
    if (status == 0 && o.output) {
        if (snprintf(temp, sizeof temp, "%s.export-XXXXXX", o.output) >= (int)sizeof temp) {
            snprintf(err, sizeof err, "-o %s: the path is too long", o.output);
            status = EXIT_BAD_INPUT;
        } else {
            int fd = mkstemp(temp);
            out = fd >= 0 ? fdopen(fd, "w") : NULL;
            if (!out) {
                snprintf(err, sizeof err, "-o %s: cannot create a file beside it: %s", o.output, strerror(errno));
                if (fd >= 0) close(fd);
                temp[0] = '\0';
                status = EXIT_ENVIRONMENT;
            }
        }
    }
    if (status == 0) status = export_all(&e, out, &o);
    if (out && out != stdout) {
        bool written = fflush(out) == 0 && fsync(fileno(out)) == 0;
        written = fclose(out) == 0 && written;
        if (status == 0 && !written) {
            snprintf(err, sizeof err, "-o %s: writing failed: %s", o.output, strerror(errno));
            status = EXIT_ENVIRONMENT;
        }
        if (status == 0 && rename(temp, o.output) != 0) {
            snprintf(err, sizeof err, "-o %s: cannot move the export into place: %s", o.output, strerror(errno));
            status = EXIT_ENVIRONMENT;
        }
        if (status != 0) unlink(temp);
    } else if (status == 0 && fflush(stdout) != 0) {
        snprintf(err, sizeof err, "writing to stdout failed: %s", strerror(errno));
        status = EXIT_ENVIRONMENT;
    }
    for (int c = 0; c < e.n_columns; c++) {
        H5Dclose(e.columns[c].dataset);
        free(e.columns[c].values);
    }
    free(e.eval_steps);
    if (e.file >= 0) H5Fclose(e.file);
    report_snapshot_free(&s);
    if (status != 0) fprintf(stderr, "groksweep export: %s\n", err);
    return status;
}
