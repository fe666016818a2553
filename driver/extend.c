#include "extend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "journal.h"
#include "report.h"
#include "sweep_embed.h"

typedef struct {
    Journal *target;
    const long *map;
    long copied;
    int failed;
    char *err;
    size_t errlen;
} Copy;

/* Journal visit: append the old sweep's point to the new journal at its new index. */
static void copy_record(long point, const PointResult *result, void *context) {
    Copy *c = context;
    if (c->failed) return;
    if (journal_append(c->target, c->map[point], result, c->err, c->errlen) != 0)
        c->failed = 1;
    else
        c->copied++;
}

/* The old sweep's text from the output's `sweep` attribute; NULL when the
 * file cannot be read as a sweep output. */
static char *old_sweep_text(const char *out_path) {
    SweepSnapshot s;
    char ignored[512];
    if (report_read(out_path, &s, ignored, sizeof ignored) != 0) return NULL;
    char *text = s.sweep_json ? strdup(s.sweep_json) : NULL;
    report_snapshot_free(&s);
    return text;
}

int extend_output(const Sweep *sweep, const char *out_path, const char *journal_path, bool have_output,
                  const char *blas_core, char *err, size_t errlen) {
    uint64_t hash;
    long n_points;
    if (journal_read_header(journal_path, &hash, &n_points, NULL, 0) != 0 || hash == sweep->hash || !have_output)
        return 0; /* nothing to extend: journal_open words what is wrong, if anything */
    char *text = old_sweep_text(out_path);
    Sweep old;
    char message[1024];
    if (!text || sweep_parse(&old, text, "the sweep recorded in the output", message, sizeof message) != 0) {
        free(text);
        return 0;
    }
    free(text);
    int status = 0;
    long *map = NULL;
    char temp[4096];
    if (old.hash != hash || old.n_points != n_points) goto out; /* the file and journal disagree: refused later */
    map = malloc(sizeof *map * (size_t)old.n_points);
    if (!map) {
        snprintf(err, errlen, "out of memory for the %ld points of %s", old.n_points, journal_path);
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    char why[512];
    if (sweep_embed(&old, sweep, map, why, sizeof why) != 0) {
        snprintf(err, errlen,
                 "-o %s: holds a different sweep, which this one does not extend (%s); a sweep extends an output "
                 "when it adds seeds or axis values and changes nothing else; use another output or --force to "
                 "start over",
                 out_path, why);
        status = EXIT_BAD_INPUT;
        goto out;
    }
    if (snprintf(temp, sizeof temp, "%s.extending", journal_path) >= (int)sizeof temp) {
        snprintf(err, errlen, "%s: the path is too long", journal_path);
        status = EXIT_BAD_INPUT;
        goto out;
    }
    unlink(temp); /* a crashed extension's: the old journal is still whole */
    Journal target, source;
    if (journal_open(&target, temp, sweep->hash, sweep->n_points, sweep->n_eval, sweep->n_rank_layers, blas_core, NULL,
                     NULL, err, errlen) != 0) {
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    Copy copy = {&target, map, 0, 0, err, errlen};
    int opened = journal_open(&source, journal_path, old.hash, old.n_points, old.n_eval, old.n_rank_layers, blas_core,
                              copy_record, &copy, err, errlen);
    if (opened == 0) journal_close(&source);
    journal_close(&target);
    if (opened != 0 || copy.failed) {
        unlink(temp);
        status = opened == -2 ? EXIT_BAD_INPUT : EXIT_ENVIRONMENT;
        goto out;
    }
    if (journal_replace(temp, journal_path) != 0) {
        snprintf(err, errlen, "cannot move %s to %s: %s", temp, journal_path, strerror(errno));
        unlink(temp);
        status = EXIT_ENVIRONMENT;
        goto out;
    }
    fprintf(stderr, "groksweep run: extending %s from %ld to %ld points: its %ld finished points are kept\n", out_path,
            old.n_points, sweep->n_points, copy.copied);
out:
    free(map);
    sweep_free(&old);
    return status;
}
