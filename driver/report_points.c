/* The points of a sweep output one by one, for `groksweep report`: their
 * coordinates, the points not done, the compute time, one point's
 * reproduction with `groksweep train`, and the base config. */
#include "report_points.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"

/* Points listed per status before "... and N more". */
#define LISTED_POINTS 20

const char *const REPORT_STATUS_NAMES[5] = {"not_run", "done", "diverged", "failed", "inferred"};
const char *const REPORT_PHASE_NAMES[5] = {"none", "comprehension", "grokking", "memorization", "confusion"};

static void point_indices(const SweepSnapshot *s, long p, int *indices) {
    for (int a = s->n_axes - 1; a >= 0; a--) {
        indices[a] = (int)(p % s->axes[a].length);
        p /= s->axes[a].length;
    }
}

void report_point_label(const SweepSnapshot *s, long p, char *buf, size_t size) {
    int indices[REPORT_MAX_AXES];
    point_indices(s, p, indices);
    size_t used = 0;
    buf[0] = '\0';
    for (int a = 0; a < s->n_axes && used < size; a++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", a ? " " : "", s->axes[a].name,
                                 s->axes[a].labels[indices[a]]);
}

double report_compute_seconds(const SweepSnapshot *s, long *timed) {
    double total = 0;
    *timed = 0;
    for (long p = 0; p < s->n_points; p++)
        if (s->status[p] != 0 && isfinite(s->wall_seconds[p])) {
            total += s->wall_seconds[p];
            ++*timed;
        }
    return total;
}

void report_format_duration(double seconds, char *buf, size_t size) {
    long t = (long)(seconds + 0.5);
    if (t >= 86400)
        snprintf(buf, size, "%ldd%02ldh", t / 86400, t / 3600 % 24);
    else if (t >= 3600)
        snprintf(buf, size, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%.1f s", seconds);
}

void report_print_not_done(const SweepSnapshot *s, bool markdown) {
    static const int order[] = {3, 2, 0}; /* failed, diverged, not run */
    long count[5] = {0};
    for (long p = 0; p < s->n_points; p++) count[s->status[p]]++;
    if (count[0] + count[2] + count[3] == 0) return;
    if (markdown)
        printf("\n## Points not done\n\n| status | point | coordinates |\n|---|---|---|\n");
    else
        printf("\nnot done:  %ld failed, %ld diverged, %ld not run (point: coordinates; groksweep report --point N "
               "shows one)\n", count[3], count[2], count[0]);
    for (int k = 0; k < 3; k++) {
        int status = order[k];
        long listed = 0;
        for (long p = 0; p < s->n_points && listed < LISTED_POINTS; p++) {
            if (s->status[p] != status) continue;
            char label[1024];
            report_point_label(s, p, label, sizeof label);
            if (markdown)
                printf("| %s | %ld | %s |\n", REPORT_STATUS_NAMES[status], p, label);
            else
                printf("  %-9s %5ld: %s\n", REPORT_STATUS_NAMES[status], p, label);
            listed++;
        }
        if (count[status] > listed) {
            if (markdown)
                printf("| %s | ... | and %ld more |\n", REPORT_STATUS_NAMES[status], count[status] - listed);
            else
                printf("  %-9s   ...  and %ld more (groksweep export lists every point)\n",
                       REPORT_STATUS_NAMES[status], count[status] - listed);
        }
    }
}

/* An axis value as a --set value: the number exactly, true/false, or the
 * string in single quotes for the shell when it needs them. */
static void set_value(const ReportAxis *axis, int k, char *buf, size_t size) {
    const char *label = axis->labels[k];
    if (axis->numbers) { /* booleans read as false/true, numbers exactly */
        if (strcmp(label, "true") == 0 || strcmp(label, "false") == 0)
            snprintf(buf, size, "%s", label);
        else
            config_format_real(axis->numbers[k], buf, size);
        return;
    }
    bool plain = label[0] != '\0';
    for (const char *c = label; *c && plain; c++)
        plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                strchr("-_./+", *c);
    snprintf(buf, size, plain ? "%s" : "'%s'", label);
}

int report_print_point(const SweepSnapshot *s, const char *path, long p) {
    if (p < 0 || p >= s->n_points) {
        fprintf(stderr, "groksweep report: --point %ld: the file has points 0 to %ld\n", p, s->n_points - 1);
        return 2;
    }
    char label[1024];
    report_point_label(s, p, label, sizeof label);
    printf("point %ld of %ld: %s\n", p, s->n_points, label);
    int status = s->status[p];
    const char *phase = REPORT_PHASE_NAMES[s->phase[p] >= 0 && s->phase[p] <= 4 ? s->phase[p] : 0];
    if (status == 1)
        printf("status:    done, %s", phase);
    else if (status == 4)
        printf("status:    inferred, %s (not trained: the phase of its refinement cell, whose trained corners "
               "agree; no crossings or time)", phase);
    else
        printf("status:    %s", REPORT_STATUS_NAMES[status]);
    if (status != 0 && status != 4) {
        char steps[2][32];
        for (int k = 0; k < 2; k++) {
            int32_t v = k ? s->test_step_90[p] : s->train_step_90[p];
            snprintf(steps[k], sizeof steps[k], v >= 0 ? "%d" : "never", (int)v);
        }
        printf("; 90%% accuracy at step %s (train), %s (test)", steps[0], steps[1]);
        if (isfinite(s->wall_seconds[p])) printf("; %.3g s", s->wall_seconds[p]);
    }
    printf("\nreproduce: groksweep report %s --base-config > base.json\n           groksweep train base.json", path);
    int indices[REPORT_MAX_AXES];
    point_indices(s, p, indices);
    for (int a = 0; a < s->n_axes; a++) {
        char value[256];
        set_value(&s->axes[a], indices[a], value, sizeof value);
        printf(" --set %s=%s", s->axes[a].path ? s->axes[a].path : s->axes[a].name, value);
    }
    printf("\n");
    return 0;
}

int report_print_base_config(const SweepSnapshot *s, const char *path) {
    cJSON *root = s->sweep_json ? cJSON_Parse(s->sweep_json) : NULL;
    if (!root) {
        fprintf(stderr, "groksweep report: %s: no readable sweep attribute, so no base config\n", path);
        cJSON_Delete(root);
        return 2;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(root, "grid");
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        fprintf(stderr, "groksweep report: out of memory\n");
        return 1;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

/* A JSON string member (NULL prints null). */
static void json_member(const char *name, const char *value, bool comma) {
    cJSON *text = value ? cJSON_CreateString(value) : cJSON_CreateNull();
    char *printed = text ? cJSON_PrintUnformatted(text) : NULL;
    printf("%s\"%s\": %s", comma ? ", " : "", name, printed ? printed : "null");
    free(printed);
    cJSON_Delete(text);
}

void report_print_json(const SweepSnapshot *s, const char *path) {
    long count[5] = {0}, phases[5] = {0}, inferred[5] = {0}, timed = 0;
    for (long p = 0; p < s->n_points; p++) {
        count[s->status[p]]++;
        if (s->status[p] == 1) phases[s->phase[p]]++;
        if (s->status[p] == 4) inferred[s->phase[p]]++;
    }
    double seconds = report_compute_seconds(s, &timed);
    printf("{");
    json_member("file", path, false);
    json_member("groksweep_version", s->groksweep_version, true);
    json_member("created", s->created, true);
    json_member("slurm_job_id", s->slurm_job_id, true);
    printf(", \"mpi_ranks\": %d, \"points\": %ld,\n \"axes\": [", s->mpi_ranks, s->n_points);
    for (int a = 0; a < s->n_axes; a++) {
        printf("%s{", a ? ", " : "");
        json_member("name", s->axes[a].name, false);
        json_member("config_key", s->axes[a].path, true);
        printf(", \"values\": [");
        for (int k = 0; k < s->axes[a].length; k++) {
            char value[64];
            if (s->axes[a].numbers) config_format_real(s->axes[a].numbers[k], value, sizeof value);
            if (s->axes[a].numbers && strcmp(s->axes[a].labels[k], "true") != 0 &&
                strcmp(s->axes[a].labels[k], "false") != 0) {
                printf("%s%s", k ? ", " : "", value);
            } else if (s->axes[a].numbers) {
                printf("%s%s", k ? ", " : "", s->axes[a].labels[k]);
            } else {
                cJSON *text = cJSON_CreateString(s->axes[a].labels[k]);
                char *printed = text ? cJSON_PrintUnformatted(text) : NULL;
                printf("%s%s", k ? ", " : "", printed ? printed : "null");
                free(printed);
                cJSON_Delete(text);
            }
        }
        printf("]}");
    }
    printf("],\n \"status\": {");
    for (int k = 0; k < 5; k++) printf("%s\"%s\": %ld", k ? ", " : "", REPORT_STATUS_NAMES[k], count[k]);
    printf("},\n \"phases\": {");
    for (int k = 1; k < 5; k++) printf("%s\"%s\": %ld", k > 1 ? ", " : "", REPORT_PHASE_NAMES[k], phases[k]);
    printf("},\n \"inferred_phases\": {");
    for (int k = 1; k < 5; k++) printf("%s\"%s\": %ld", k > 1 ? ", " : "", REPORT_PHASE_NAMES[k], inferred[k]);
    printf("},\n \"compute_seconds\": %.6g, \"timed_points\": %ld,\n \"not_done\": [", seconds, timed);
    bool first = true;
    for (long p = 0; p < s->n_points; p++) {
        if (s->status[p] == 1 || s->status[p] == 4) continue;
        char label[1024];
        report_point_label(s, p, label, sizeof label);
        printf("%s\n  {\"point\": %ld, ", first ? "" : ",", p);
        json_member("status", REPORT_STATUS_NAMES[s->status[p]], false);
        json_member("coordinates", label, true);
        printf("}");
        first = false;
    }
    printf("%s]}\n", first ? "" : "\n ");
}
