/* A task: where a run's training and test examples come from.
 *
 *   arithmetic       x op y mod p as token sequences (Power et al. 2022)
 *   s5               compositions of permutations of 5 elements (Power et al. 2022)
 *   images           images and labels from IDX files (Omnigrok's MNIST)
 *   teacher_student  regression on a random teacher MLP (Omnigrok)
 *   carvalho         Gaussian subclasses with an imbalance f (Carvalho et al. 2025)
 *
 * The algebraic tasks' (arithmetic, s5) training set is a data fraction of
 * all pairs; the others take a training-set size. */
#ifndef GROKSWEEP_TASK_H
#define GROKSWEEP_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arithmetic.h"
#include "carvalho.h"
#include "examples.h"
#include "images.h"
#include "teacher_student.h"

typedef enum { TASK_ARITHMETIC, TASK_IMAGES, TASK_TEACHER_STUDENT, TASK_CARVALHO, TASK_S5, TASK_KIND_COUNT } TaskKind;

/* True for the tasks of binary operations on a finite set, whose examples
 * are equations split by a data fraction (TaskConfig.arithmetic). */
static inline bool task_is_algebraic(TaskKind kind) { return kind == TASK_ARITHMETIC || kind == TASK_S5; }

typedef struct {
    TaskKind kind;
    ArithmeticConfig arithmetic; /* arithmetic and s5 */
    int train_size;   /* images, teacher_student, carvalho: training-set size N */
    int test_size;    /* images (0 = the whole test pool), teacher_student, carvalho */
    ImagesConfig images;
    TeacherConfig teacher;
    CarvalhoConfig carvalho;
} TaskConfig;

/* JSON name of a task kind ("arithmetic", "images", ...). */
const char *task_kind_name(TaskKind kind);

/* One line describing the task for people: "x+y mod 59", "x.y in S5", "images of
 * /path/train.gz, 1000 training examples (first)", ... */
void task_describe(const TaskConfig *task, char *buf, size_t size);

/* The shape of a task's examples and the sizes of its sets. */
typedef struct {
    ExampleShape shape;
    int n_train, n_test;
} TaskLayout;

/* The task's layout, from the config alone except for images, whose files'
 * headers and labels are read (not their pixels). Returns 0, or -1 with a
 * message (an unreadable or malformed file). */
int task_layout(const TaskConfig *task, TaskLayout *layout, char *err, size_t errlen);

/* Everything about the task that the config parser cannot see: image files
 * read through and checked, training and test sizes against the pools.
 * Returns 0, or -1 with one line naming the key, the value and what is
 * allowed. */
int task_check(const TaskConfig *task, char *err, size_t errlen);

/* Tolerance below which a vector-target prediction's MSE counts as
 * correct (teacher_student); 0 for class targets. */
double task_tolerance(const TaskConfig *task);

/* Build the task's training and test sets; seed drives the split, subset
 * or draw (see each task). Returns 0, or -1 with a message (memory, or a
 * data file that fails its check). ds is empty on failure. */
int task_dataset(Dataset *ds, const TaskConfig *task, uint64_t seed, char *err, size_t errlen);

#endif
