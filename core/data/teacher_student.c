#include "teacher_student.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "error.h"
#include "model.h"
#include "rng.h"

#define TEACHER_CHUNK 1024 /* examples per teacher forward pass */

ExampleShape teacher_student_shape(const TeacherConfig *teacher) {
    return (ExampleShape){.seq_len = 0, .vocab = 0, .dim = teacher->input_dim, .target = TARGET_VECTOR,
                          .n_outputs = teacher->output_dim};
}

/* The teacher's architecture: tanh, biases, PyTorch's initialization. */
static ModelConfig teacher_model_config(const TeacherConfig *teacher) {
    return (ModelConfig){.kind = MODEL_MLP, .input = INPUT_DENSE, .width = teacher->width, .depth = teacher->depth,
                         .activation = ACT_TANH, .bias = true, .init_kind = INIT_PYTORCH, .init_scale = 1};
}

/* Fill ex->features with N(0, 1) inputs from a stream seeded by seed. */
static void draw_inputs(Examples *ex, uint64_t seed) {
    Rng rng;
    rng_seed(&rng, seed);
    long count = (long)ex->n * ex->shape.dim;
    for (long i = 0; i < count; i++) ex->features[i] = (real)rng_normal(&rng);
}

/* ex->targets = teacher(ex->features), in chunks of exactly TEACHER_CHUNK
 * rows (the last one padded with zero inputs in chunk): some OpenBLAS
 * kernels (Zen) sum a row's products in an order that depends on the row
 * count, and an example's target must not depend on how many there are. */
static void label_with_teacher(Model *teacher, Examples *ex, Examples *chunk) {
    ASSERT(teacher->max_batch == TEACHER_CHUNK && chunk->n == TEACHER_CHUNK);
    int width = ex->shape.n_outputs, dim = ex->shape.dim;
    for (int start = 0; start < ex->n; start += TEACHER_CHUNK) {
        int n = ex->n - start < TEACHER_CHUNK ? ex->n - start : TEACHER_CHUNK;
        memset(chunk->features, 0, sizeof(real) * (size_t)TEACHER_CHUNK * (size_t)dim);
        memcpy(chunk->features, ex->features + (size_t)start * (size_t)dim, sizeof(real) * (size_t)n * (size_t)dim);
        model_forward(teacher, chunk);
        memcpy(ex->targets + (size_t)start * (size_t)width, teacher->outputs, sizeof(real) * (size_t)n * (size_t)width);
    }
}

/* A seed derived from `seed` for one purpose (a short label). */
static uint64_t derived_seed(uint64_t seed, const char *purpose) {
    char key[64];
    snprintf(key, sizeof key, "%016" PRIx64 " %s", seed, purpose);
    return hash_string(key);
}

int teacher_student_dataset(Dataset *ds, const TeacherConfig *teacher, int train_size, int test_size,
                            uint64_t input_seed, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    ExampleShape shape = teacher_student_shape(teacher);
    ModelConfig model_cfg = teacher_model_config(teacher);
    Model model;
    Examples chunk;
    memset(&chunk, 0, sizeof chunk);
    if (model_create(&model, &model_cfg, &shape, TEACHER_CHUNK) != 0 || examples_alloc(&chunk, &shape, TEACHER_CHUNK) != 0 ||
        examples_alloc(&ds->train, &shape, train_size) != 0 || examples_alloc(&ds->test, &shape, test_size) != 0) {
        model_free(&model);
        examples_free(&chunk);
        dataset_free(ds);
        return error_format(err, errlen, "out of memory building the teacher-student data (task.train_size = %d)",
                            train_size);
    }
    char key[160];
    snprintf(key, sizeof key, "teacher input_dim=%d output_dim=%d width=%d depth=%d seed=%d", teacher->input_dim,
             teacher->output_dim, teacher->width, teacher->depth, teacher->seed);
    model_init(&model, hash_string(key));
    draw_inputs(&ds->train, derived_seed(input_seed, "train inputs"));
    draw_inputs(&ds->test, derived_seed(input_seed, "test inputs"));
    label_with_teacher(&model, &ds->train, &chunk);
    label_with_teacher(&model, &ds->test, &chunk);
    model_free(&model);
    examples_free(&chunk);
    return 0;
}
