#include "teacher_student.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

/* ex->targets = teacher(ex->features), in chunks of the teacher's batch. */
static void label_with_teacher(Model *teacher, Examples *ex) {
    int width = ex->shape.n_outputs;
    for (int start = 0; start < ex->n; start += teacher->max_batch) {
        int n = ex->n - start < teacher->max_batch ? ex->n - start : teacher->max_batch;
        Examples chunk = examples_slice(ex, start, n);
        model_forward(teacher, &chunk);
        memcpy(chunk.targets, teacher->outputs, sizeof(real) * (size_t)n * (size_t)width);
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
    int largest = train_size > test_size ? train_size : test_size;
    if (model_create(&model, &model_cfg, &shape, largest < TEACHER_CHUNK ? largest : TEACHER_CHUNK) != 0 ||
        examples_alloc(&ds->train, &shape, train_size) != 0 || examples_alloc(&ds->test, &shape, test_size) != 0) {
        model_free(&model);
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
    label_with_teacher(&model, &ds->train);
    label_with_teacher(&model, &ds->test);
    model_free(&model);
    return 0;
}
