/* `groksweep run --ranks N ...`: start the sweep's ranks with mpiexec and
 * stand between it and the terminal or the job script.
 *
 * Open MPI's mpiexec ends with its own exit status 1 when it receives
 * SIGINT or SIGTERM, though the ranks stopped cleanly with status 3; it
 * relays SIGUSR1 to the ranks and then passes their status on. So mpiexec
 * runs here in its own process group (a Ctrl-C reaches only this process)
 * with stdin from /dev/null, and every stop signal that arrives here is sent
 * on to it as SIGUSR1. If this process dies, the kernel sends mpiexec
 * SIGUSR1 too (PR_SET_PDEATHSIG), so the sweep never runs on unattended.
 * A SIGUSR1 that comes while mpiexec is still starting the ranks reaches
 * none of them, so a stop also creates a file (GROKSWEEP_STOP_FILE, beside
 * the output) that rank 0 looks for a few times a second; the ranks catch
 * stop signals from the first moment of their main(). The file reaches rank
 * 0 through the environment mpiexec passes to the ranks on this node. */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "commands.h"

/* Words of GROKSWEEP_MPIEXEC at most. */
#define MAX_LAUNCHER_WORDS 64

static volatile sig_atomic_t launcher_pid = 0;
/* Created on a stop, for rank 0 to find (GROKSWEEP_STOP_FILE): a SIGUSR1
 * that reaches mpiexec before it has started the ranks is lost. */
static char stop_file[PATH_MAX + 64];

static void forward_stop(int sig) {
    (void)sig;
    if (stop_file[0]) {
        int fd = open(stop_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
    }
    if (launcher_pid > 0) kill((pid_t)launcher_pid, SIGUSR1);
}

/* The stop file's name: hidden beside the output (-o) of the run arguments,
 * with this process's id, so that one left by a launcher that died is never
 * taken for this one's. Empty when there is no -o. */
static void name_stop_file(int argc, char **argv) {
    stop_file[0] = '\0';
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            const char *out = argv[i + 1], *slash = strrchr(out, '/');
            int dir = slash ? (int)(slash - out) + 1 : 0;
            int n = snprintf(stop_file, sizeof stop_file, "%.*s.%s.stop-%ld", dir, out, slash ? slash + 1 : out,
                             (long)getpid());
            if (n < 0 || (size_t)n >= sizeof stop_file) stop_file[0] = '\0';
        }
}

/* Split text (modified in place) at spaces and tabs into at most max words;
 * returns their count, or -1 when there are more. */
static int split_words(char *text, char **words, int max) {
    int n = 0;
    for (char *word = strtok(text, " \t"); word; word = strtok(NULL, " \t")) {
        if (n == max) return -1;
        words[n++] = word;
    }
    return n;
}

int launch_parse_ranks(const char *flag, const char *value, int *n_ranks) {
    char *end;
    errno = 0;
    long n = value ? strtol(value, &end, 10) : 0;
    if (!value || errno || end == value || *end || n < 1 || n > LAUNCH_MAX_RANKS) {
        fprintf(stderr, "groksweep run: %s %s: the number of ranks to start must be an integer from 1 to %d\n", flag,
                value ? value : "(missing)", LAUNCH_MAX_RANKS);
        return EXIT_BAD_INPUT;
    }
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK")) {
        fprintf(stderr, "groksweep run: %s %s: this process is already a rank started by an MPI launcher; give the "
                        "rank count to the launcher or use %s alone\n",
                flag, value, flag);
        return EXIT_BAD_INPUT;
    }
    *n_ranks = (int)n;
    return 0;
}

int launch_ranks(int n_ranks, int argc, char **argv) {
    ASSERT(n_ranks >= 1 && argc >= 0 && argv);
    char self[PATH_MAX];
    ssize_t self_len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (self_len <= 0) {
        fprintf(stderr, "groksweep run: --ranks: cannot find this executable (/proc/self/exe): %s\n", strerror(errno));
        return EXIT_ENVIRONMENT;
    }
    self[self_len] = '\0';
    const char *configured = getenv("GROKSWEEP_MPIEXEC");
    char *launcher = strdup(configured && configured[0] ? configured : GROKSWEEP_MPIEXEC);
    char **child_argv = calloc((size_t)(MAX_LAUNCHER_WORDS + argc + 6), sizeof *child_argv);
    char ranks_text[16];
    snprintf(ranks_text, sizeof ranks_text, "%d", n_ranks);
    int n = launcher && child_argv ? split_words(launcher, child_argv, MAX_LAUNCHER_WORDS) : 0;
    if (!launcher || !child_argv) {
        fprintf(stderr, "groksweep run: --ranks: out of memory\n");
        free(launcher);
        free(child_argv);
        return EXIT_ENVIRONMENT;
    }
    if (n <= 0) {
        fprintf(stderr, "groksweep run: GROKSWEEP_MPIEXEC=\"%s\": must name the MPI launcher (and its options), at "
                        "most %d words\n", configured, MAX_LAUNCHER_WORDS);
        free(launcher);
        free(child_argv);
        return EXIT_BAD_INPUT;
    }
    child_argv[n++] = "-n";
    child_argv[n++] = ranks_text;
    child_argv[n++] = self;
    child_argv[n++] = "run";
    for (int i = 0; i < argc; i++) child_argv[n++] = argv[i];
    child_argv[n] = NULL;
    name_stop_file(argc, argv);
    if (stop_file[0]) {
        unlink(stop_file);
        setenv("GROKSWEEP_STOP_FILE", stop_file, 1);
    }

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = forward_stop;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};
    sigset_t blocked, previous;
    sigemptyset(&blocked);
    for (size_t s = 0; s < sizeof stop_signals / sizeof stop_signals[0]; s++) sigaddset(&blocked, stop_signals[s]);
    /* a stop signal before launcher_pid is set waits until it is */
    sigprocmask(SIG_BLOCK, &blocked, &previous);
    for (size_t s = 0; s < sizeof stop_signals / sizeof stop_signals[0]; s++)
        sigaction(stop_signals[s], &action, NULL);
    pid_t parent = getpid();
    pid_t child = fork();
    if (child == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGUSR1);
        if (getppid() != parent) raise(SIGUSR1); /* the parent died before prctl */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGUSR1, SIG_DFL);
        sigprocmask(SIG_SETMASK, &previous, NULL);
        /* the ranks' stderr is mpiexec's pipe: tell them whether ours is a terminal */
        struct winsize size;
        if (isatty(STDERR_FILENO)) {
            setenv("GROKSWEEP_PROGRESS", "live", 1);
            char columns[16];
            if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
                snprintf(columns, sizeof columns, "%d", size.ws_col);
                setenv("COLUMNS", columns, 1);
            }
        }
        int null_fd = open("/dev/null", O_RDONLY);
        if (null_fd >= 0) {
            dup2(null_fd, STDIN_FILENO);
            close(null_fd);
        }
        execvp(child_argv[0], child_argv);
        fprintf(stderr, "groksweep run: --ranks: cannot start the MPI launcher %s: %s (set GROKSWEEP_MPIEXEC)\n",
                child_argv[0], strerror(errno));
        _exit(EXIT_ENVIRONMENT);
    }
    int status = EXIT_ENVIRONMENT;
    if (child < 0) {
        fprintf(stderr, "groksweep run: --ranks: cannot fork: %s\n", strerror(errno));
    } else {
        setpgid(child, child); /* also here, so no signal finds it in our group */
        launcher_pid = child;
        sigprocmask(SIG_SETMASK, &previous, NULL);
        /* Each stop is relayed once: mpiexec, once its ranks have ended,
         * dies of a SIGUSR1 that comes during its own shutdown. */
        int wstatus = 0;
        pid_t done;
        while ((done = waitpid(child, &wstatus, 0)) < 0 && errno == EINTR) continue;
        if (done < 0)
            fprintf(stderr, "groksweep run: --ranks: waiting for %s: %s\n", child_argv[0], strerror(errno));
        else if (WIFEXITED(wstatus))
            status = WEXITSTATUS(wstatus);
        else if (WIFSIGNALED(wstatus))
            status = 128 + WTERMSIG(wstatus);
        launcher_pid = 0;
    }
    if (stop_file[0]) unlink(stop_file);
    free(launcher);
    free(child_argv);
    return status;
}
