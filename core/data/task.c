#include "task.h"

#include <stdio.h>
#include <string.h>

#include "check.h"
#include "error.h"

static const char *const task_kind_names[TASK_KIND_COUNT] = {[TASK_ARITHMETIC] = "arithmetic",
                                                             [TASK_IMAGES] = "images",
                                                             [TASK_TEACHER_STUDENT] = "teacher_student",
                                                             [TASK_CARVALHO] = "carvalho",
                                                             [TASK_S5] = "s5"};

const char *task_kind_name(TaskKind kind) {
    ASSERT((unsigned)kind < (unsigned)TASK_KIND_COUNT);
    return task_kind_names[kind];
}

void task_describe(const TaskConfig *task, char *buf, size_t size) {
    switch (task->kind) {
    case TASK_ARITHMETIC:
    case TASK_S5: {
        const ArithmeticConfig *arith = &task->arithmetic;
        int used = task->kind == TASK_S5 ? snprintf(buf, size, "%s in S5", operation_name(arith->op))
                                         : snprintf(buf, size, "%s mod %d", operation_name(arith->op), arith->p);
        if (arith->concealed_bits > 0 && used >= 0 && (size_t)used < size)
            snprintf(buf + used, size - (size_t)used, ", %d concealed bits", arith->concealed_bits);
        return;
    }
    case TASK_IMAGES:
        snprintf(buf, size, "images of %s, %d training examples (%s)", task->images.train_images, task->train_size,
                 task->images.subset == SUBSET_FIRST ? "the first ones" : "a random subset");
        return;
    case TASK_TEACHER_STUDENT:
        snprintf(buf, size, "teacher-student regression, tanh teacher %d -> %dx%d -> %d, %d training examples",
                 task->teacher.input_dim, task->teacher.width, task->teacher.depth, task->teacher.output_dim,
                 task->train_size);
        return;
    case TASK_CARVALHO:
        snprintf(buf, size, "Carvalho et al. dataset %d, imbalance %g, %d training examples", task->carvalho.dataset,
                 task->carvalho.imbalance, task->train_size);
        return;
    case TASK_KIND_COUNT: break;
    }
    ASSERT(!"unknown task kind");
}

int task_layout(const TaskConfig *task, TaskLayout *layout, char *err, size_t errlen) {
    memset(layout, 0, sizeof *layout);
    switch (task->kind) {
    case TASK_ARITHMETIC:
    case TASK_S5:
        layout->shape = arithmetic_shape(&task->arithmetic);
        layout->n_train = arithmetic_train_count(&task->arithmetic);
        layout->n_test = arithmetic_example_count(&task->arithmetic) - layout->n_train;
        return 0;
    case TASK_IMAGES: {
        ImagesInfo info;
        if (images_layout(&task->images, &info, err, errlen) != 0) return -1;
        layout->shape = (ExampleShape){.dim = info.rows * info.cols, .target = TARGET_CLASS, .n_outputs = info.n_classes};
        layout->n_train = task->train_size;
        layout->n_test = task->test_size > 0 ? task->test_size : info.test_pool;
        return 0;
    }
    case TASK_TEACHER_STUDENT:
        layout->shape = teacher_student_shape(&task->teacher);
        layout->n_train = task->train_size;
        layout->n_test = task->test_size;
        return 0;
    case TASK_CARVALHO:
        layout->shape = (ExampleShape){.dim = CARVALHO_DIM, .target = TARGET_CLASS, .n_outputs = CARVALHO_CLASSES};
        layout->n_train = task->train_size;
        layout->n_test = task->test_size;
        return 0;
    case TASK_KIND_COUNT: break;
    }
    ASSERT(!"unknown task kind");
    return -1;
}

int task_check(const TaskConfig *task, char *err, size_t errlen) {
    ImagesInfo info;
    switch (task->kind) {
    case TASK_IMAGES: return images_check(&task->images, task->train_size, task->test_size, &info, err, errlen);
    case TASK_CARVALHO: return carvalho_check(&task->carvalho, task->train_size, task->test_size, err, errlen);
    default: return 0;
    }
}

double task_tolerance(const TaskConfig *task) { return task->kind == TASK_TEACHER_STUDENT ? task->teacher.tolerance : 0; }

int task_dataset(Dataset *ds, const TaskConfig *task, uint64_t seed, char *err, size_t errlen) {
    switch (task->kind) {
    case TASK_ARITHMETIC:
    case TASK_S5:
        if (arithmetic_dataset(ds, &task->arithmetic, seed) == 0) return 0;
        return error_format(err, errlen, "out of memory building the split of %d examples (task.kind = %s)",
                            arithmetic_example_count(&task->arithmetic), task_kind_name(task->kind));
    case TASK_IMAGES:
        return images_dataset(ds, &task->images, task->train_size, task->test_size, seed, err, errlen);
    case TASK_TEACHER_STUDENT:
        return teacher_student_dataset(ds, &task->teacher, task->train_size, task->test_size, seed, err, errlen);
    case TASK_CARVALHO:
        return carvalho_dataset(ds, &task->carvalho, task->train_size, task->test_size, seed, err, errlen);
    case TASK_KIND_COUNT: break;
    }
    ASSERT(!"unknown task kind");
    return -1;
}
