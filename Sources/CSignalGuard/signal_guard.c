#include "signal_guard.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define FIT_PATH_MAX 4096
#define FIT_RESET_MAX 256

static const int guarded[] = { SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE, SIGABRT };
#define GUARDED_COUNT (sizeof guarded / sizeof guarded[0])

static struct sigaction previous[GUARDED_COUNT];
static volatile sig_atomic_t installed = 0;

static char temporary_path[FIT_PATH_MAX];
static volatile sig_atomic_t temporary_set = 0;

static struct termios saved_modes;
static volatile sig_atomic_t modes_saved = 0;
static char reset_bytes[FIT_RESET_MAX];
static size_t reset_length = 0;
static volatile sig_atomic_t terminal_armed = 0;

static pthread_t main_thread;

static void handle(int sig) {
    /* Requests to end (not faults) are handled on the main thread, which draws the screen: a
       frame it is writing is then cut off before the reset, never written after it. */
    if ((sig == SIGINT || sig == SIGTERM || sig == SIGHUP) && !pthread_equal(pthread_self(), main_thread)) {
        pthread_kill(main_thread, sig);
        return;
    }
    if (temporary_set) unlink(temporary_path);
    if (terminal_armed) {
        size_t done = 0;
        while (done < reset_length) {
            ssize_t n = write(STDOUT_FILENO, reset_bytes + done, reset_length - done);
            if (n <= 0) break;
            done += (size_t)n;
        }
        if (modes_saved) tcsetattr(STDIN_FILENO, TCSANOW, &saved_modes);
        terminal_armed = 0;
    }
    for (size_t i = 0; i < GUARDED_COUNT; i++) {
        if (guarded[i] == sig) { sigaction(sig, &previous[i], NULL); break; }
    }
    /* SA_NODEFER: delivered now, to the old handler (the default action ends the process at
       once, before another thread can draw over the restored screen). */
    raise(sig);
}

void fit_guard_install(void) {
    if (installed) return;
    installed = 1;
    main_thread = pthread_self();
    /* A parent (a test runner, some shells' job control) may have blocked the signals that end
       fit; they must reach the handlers for the clean-up to happen. */
    sigset_t ending;
    sigemptyset(&ending);
    sigaddset(&ending, SIGINT);
    sigaddset(&ending, SIGTERM);
    sigaddset(&ending, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &ending, NULL);
    for (size_t i = 0; i < GUARDED_COUNT; i++) {
        sigaction(guarded[i], NULL, &previous[i]);
        if (previous[i].sa_handler == SIG_IGN) continue;
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = handle;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART | SA_NODEFER;
        sigaction(guarded[i], &action, NULL);
    }
}

void fit_guard_set_temporary(const char *path) {
    temporary_set = 0;
    if (path == NULL) return;
    size_t n = strlen(path);
    if (n >= FIT_PATH_MAX) return;
    memcpy(temporary_path, path, n + 1);
    temporary_set = 1;
}

void fit_guard_save_terminal(void) {
    if (tcgetattr(STDIN_FILENO, &saved_modes) == 0) modes_saved = 1;
}

void fit_guard_arm_terminal(const char *bytes) {
    terminal_armed = 0;
    size_t n = strlen(bytes);
    if (n >= FIT_RESET_MAX) n = FIT_RESET_MAX - 1;
    memcpy(reset_bytes, bytes, n);
    reset_length = n;
    terminal_armed = 1;
}

void fit_guard_disarm_terminal(void) { terminal_armed = 0; }
