/* libFuzzer target: opening a journal on resume. The input is the body of
 * a journal after a valid header (records, torn or damaged or forged); every
 * record handed to the visitor must hold valid values (journal_open must
 * catch the rest), and reopening the journal it leaves must be quiet. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_POINTS 8
#define N_EVAL 3

static void visit(long point, const PointResult *result, void *context) {
    (void)context;
    if (point < 0 || point >= N_POINTS || !point_result_valid(result)) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/tmp/fuzz_journal.%ld", (long)getpid());
    unlink(path);
    Journal j;
    char err[1024];
    /* a fresh journal writes the header this sweep expects */
    if (journal_open(&j, path, 0x1234, N_POINTS, N_EVAL, 1, "Haswell", visit, NULL, err, sizeof err) != 0) abort();
    journal_close(&j);
    FILE *f = fopen(path, "ab");
    if (!f) abort();
    fwrite(data, 1, size, f);
    fclose(f);
    if (journal_open(&j, path, 0x1234, N_POINTS, N_EVAL, 1, "Haswell", visit, NULL, err, sizeof err) == 0) {
        journal_close(&j);
        if (journal_open(&j, path, 0x1234, N_POINTS, N_EVAL, 1, "Haswell", visit, NULL, err, sizeof err) != 0) abort();
        journal_close(&j);
    }
    unlink(path);
    return 0;
}
