#ifndef FIT_SIGNAL_GUARD_H
#define FIT_SIGNAL_GUARD_H
/*
 * What fit undoes when a signal ends the process, using only async-signal-safe calls:
 * the temporary file of an atomic write in progress is removed (SIGINT, SIGTERM, SIGHUP), and
 * the terminal the explorer changed is restored (those and the fatal signals SIGSEGV, SIGBUS,
 * SIGILL, SIGTRAP, SIGFPE, SIGABRT). The handler then passes the signal on to whatever handled
 * it before (the default action, or the Swift runtime's crash reporter), so the exit status
 * stays the signal's and a crash report still appears, on a restored screen.
 */

/* Installs the handlers (once; later calls do nothing; call it on the main thread) and unblocks
   SIGINT, SIGTERM and SIGHUP.
   Signals the process ignores stay ignored. */
void fit_guard_install(void);

/* The temporary file being written now (NULL: none). */
void fit_guard_set_temporary(const char *path);

/* Saves the terminal modes of standard input, to restore them on a signal. Call before curses starts. */
void fit_guard_save_terminal(void);
/* From now on a signal writes `bytes` to standard output and restores the saved modes. */
void fit_guard_arm_terminal(const char *bytes);
/* The terminal is restored normally; signals leave it alone again. */
void fit_guard_disarm_terminal(void);

#endif
