/* The journal: records survive reopening, a torn last record is cut off, a
 * damaged or forged record in the middle costs only its own point, a
 * damaged header and a journal of another sweep are refused. */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "test_util.h"

#define N_EVAL 4
#define N_RANK_LAYERS 2 /* feature-rank series after the curves */

typedef struct {
    int count;
    long points[16];
    float losses[16];
    float first_curve[16];
    float last_rank[16];
} Seen;

static void remember(long point, const PointResult *r, void *context) {
    Seen *seen = context;
    if (seen->count < 16) {
        seen->points[seen->count] = point;
        seen->losses[seen->count] = r->final_test_loss;
        seen->first_curve[seen->count] = r->curve[0];
        seen->last_rank[seen->count] = r->curve[(CURVE_SERIES + N_RANK_LAYERS) * N_EVAL - 1];
    }
    seen->count++;
}

static off_t file_size(const char *path) {
    int fd = open(path, O_RDONLY);
    off_t size = lseek(fd, 0, SEEK_END);
    close(fd);
    return size;
}

static int open_counting(Journal *j, const char *path, Seen *seen, char *err, size_t errlen) {
    memset(seen, 0, sizeof *seen);
    return journal_open(j, path, 0xabcdef, 10, N_EVAL, N_RANK_LAYERS, "Haswell", remember, seen, err, errlen);
}

/* Five records, points 0..4; then one byte of record 1 flipped, record 3
 * forged with status 9 and a valid checksum, record 4 forged with status 0
 * (not run): only those points are lost, once; a damaged header is refused. */
static void test_damage(const char *path, PointResult *r) {
    char err[512];
    Journal j;
    Seen seen;
    unlink(path);
    CHECK(open_counting(&j, path, &seen, err, sizeof err) == 0, "create: %s", err);
    for (long p = 0; p < 5; p++) {
        point_result_clear(r);
        r->status = POINT_DONE;
        r->steps_run = 100;
        r->final_test_loss = (float)p;
        if (p == 3) r->status = 9;
        if (p == 4) r->status = POINT_NOT_RUN;
        CHECK(journal_append(&j, p, r, err, sizeof err) == 0, "append: %s", err);
    }
    journal_close(&j);
    off_t record = (file_size(path) - 64) / 5;
    int fd = open(path, O_RDWR);
    unsigned char byte;
    CHECK(pread(fd, &byte, 1, 64 + record + 20) == 1, "read a byte of record 1");
    byte ^= 0x10;
    CHECK(pwrite(fd, &byte, 1, 64 + record + 20) == 1, "flip it");
    close(fd);
    CHECK(open_counting(&j, path, &seen, err, sizeof err) == 0, "reopen a damaged journal: %s", err);
    CHECK(seen.count == 2 && seen.points[0] == 0 && seen.points[1] == 2 && seen.losses[1] == 2,
          "the records around a damaged one are kept: %d records", seen.count);
    journal_close(&j);
    CHECK(file_size(path) == 64 + 2 * record, "the journal is rewritten without the 3 damaged records");
    CHECK(open_counting(&j, path, &seen, err, sizeof err) == 0 && seen.count == 2, "reopened again: %d", seen.count);
    point_result_clear(r);
    r->status = POINT_DONE;
    r->steps_run = 100;
    CHECK(journal_append(&j, 1, r, err, sizeof err) == 0, "the lost point runs again: %s", err);
    journal_close(&j);
    CHECK(open_counting(&j, path, &seen, err, sizeof err) == 0 && seen.count == 3 && seen.points[2] == 1,
          "its new record is read back");
    journal_close(&j);

    fd = open(path, O_RDWR);
    CHECK(pwrite(fd, "XX", 2, 2) == 2, "damage the header");
    close(fd);
    off_t before = file_size(path);
    CHECK(open_counting(&j, path, &seen, err, sizeof err) == -2, "a damaged header is refused");
    CHECK(strstr(err, "header is damaged") && strstr(err, "--force"), "with the way out: %s", err);
    CHECK(file_size(path) == before && seen.count == 0, "and left as it was");
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "test_journal.bin";
    char err[512];
    unlink(path);
    Journal j;
    Seen seen = {0};
    CHECK(journal_open(&j, path, 0xabcdef, 10, N_EVAL, N_RANK_LAYERS, "Haswell", remember, &seen, err, sizeof err) == 0, "create: %s", err);
    CHECK(seen.count == 0, "a new journal has no records");
    PointResult r;
    point_result_init(&r, N_EVAL, N_RANK_LAYERS);
    for (long p = 0; p < 3; p++) {
        point_result_clear(&r);
        r.status = POINT_DONE;
        r.steps_run = 100;
        r.final_test_loss = 0.5f * (float)p;
        r.curve[0] = 10.0f + (float)p;
        r.curve[(CURVE_SERIES + N_RANK_LAYERS) * N_EVAL - 1] = 100.0f + (float)p;
        CHECK(journal_append(&j, 7 - p, &r, err, sizeof err) == 0, "append: %s", err);
    }
    journal_close(&j);

    /* tear the last record as a kill during write() would */
    int fd = open(path, O_RDWR);
    off_t size = lseek(fd, 0, SEEK_END);
    CHECK(ftruncate(fd, size - 5) == 0, "truncate");
    close(fd);
    CHECK(journal_open(&j, path, 0xabcdef, 10, N_EVAL, N_RANK_LAYERS, "Haswell", remember, &seen, err, sizeof err) == 0, "reopen: %s", err);
    CHECK(seen.count == 2, "two intact records, got %d", seen.count);
    CHECK(seen.points[0] == 7 && seen.points[1] == 6, "points in order: %ld %ld", seen.points[0], seen.points[1]);
    CHECK(seen.losses[1] == 0.5f && seen.first_curve[1] == 11.0f && seen.last_rank[1] == 101.0f,
          "payload intact, the last feature-rank entry included");
    /* appending after the cut continues cleanly */
    r.final_test_loss = 9;
    CHECK(journal_append(&j, 3, &r, err, sizeof err) == 0, "append after reopen: %s", err);
    journal_close(&j);
    memset(&seen, 0, sizeof seen);
    CHECK(journal_open(&j, path, 0xabcdef, 10, N_EVAL, N_RANK_LAYERS, "Haswell", remember, &seen, err, sizeof err) == 0, "reopen: %s", err);
    CHECK(seen.count == 3 && seen.points[2] == 3 && seen.losses[2] == 9, "three records after the cut");
    journal_close(&j);

    /* another sweep's journal is refused, and left as it was */
    fd = open(path, O_RDONLY);
    off_t before = lseek(fd, 0, SEEK_END);
    close(fd);
    memset(&seen, 0, sizeof seen);
    CHECK(journal_open(&j, path, 0x123456, 10, N_EVAL, N_RANK_LAYERS, "Haswell", remember, &seen, err, sizeof err) == -2,
          "another sweep's hash is refused");
    CHECK(strstr(err, "different sweep") != NULL && strstr(err, "--force") != NULL, "message: %s", err);
    CHECK(journal_open(&j, path, 0xabcdef, 11, N_EVAL, N_RANK_LAYERS, "Haswell", remember, &seen, err, sizeof err) == -2,
          "another point count is refused");
    CHECK(journal_open(&j, path, 0xabcdef, 10, N_EVAL, N_RANK_LAYERS, "SkylakeX", remember, &seen, err, sizeof err) == -2,
          "another OpenBLAS kernel is refused");
    CHECK(strstr(err, "kernel Haswell") != NULL && strstr(err, "OPENBLAS_CORETYPE=Haswell") != NULL,
          "message names the kernel to resume with: %s", err);
    fd = open(path, O_RDONLY);
    CHECK(lseek(fd, 0, SEEK_END) == before, "a refused journal is untouched");
    close(fd);
    CHECK(seen.count == 0, "nothing visited from a refused journal");

    test_damage(path, &r);
    point_result_free(&r);
    unlink(path);
    return test_finish();
}
