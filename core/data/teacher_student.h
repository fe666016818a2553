/* Teacher–student regression (Omnigrok, Liu, Michaud & Tegmark 2023): a
 * fixed random teacher MLP maps inputs x ~ N(0, I) to targets; a student
 * learns it from train_size examples and is tested on test_size others. */
#ifndef GROKSWEEP_TEACHER_STUDENT_H
#define GROKSWEEP_TEACHER_STUDENT_H

#include <stddef.h>
#include <stdint.h>

#include "examples.h"

typedef struct {
    int input_dim;    /* task.input_dim: D */
    int output_dim;   /* task.output_dim */
    int width;        /* task.teacher_width: hidden width of the teacher */
    int depth;        /* task.teacher_depth: hidden layers of the teacher */
    int seed;         /* task.teacher_seed: the teacher's weights depend on it (and the shapes) alone */
    double tolerance; /* task.tolerance: a prediction counts as correct when its MSE is below it */
} TeacherConfig;

/* The shape of the task's examples: dense inputs of input_dim, vector
 * targets of output_dim. */
ExampleShape teacher_student_shape(const TeacherConfig *teacher);

/* Build the dataset: a tanh MLP input_dim → width × depth → output_dim with
 * biases and PyTorch's default initialization, seeded by the teacher's
 * shapes and seed; training inputs drawn from a stream seeded by input_seed
 * (nested across sizes), test inputs from another one (independent of
 * train_size); targets are the teacher's outputs. Returns 0, or -1 with a
 * message when memory runs out (ds left empty). */
int teacher_student_dataset(Dataset *ds, const TeacherConfig *teacher, int train_size, int test_size,
                            uint64_t input_seed, char *err, size_t errlen);

#endif
