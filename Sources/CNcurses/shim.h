#ifndef FIT_CNCURSES_SHIM_H
#define FIT_CNCURSES_SHIM_H
// Wide-character ncurses needs these before <curses.h>; SwiftPM drops pkg-config's -D flags,
// so the shim defines them itself (docs/terminal.md §2.7).
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <langinfo.h>
#include <wchar.h>
#include <stdio.h>
#include <string.h>
#include <ncursesw/curses.h>

/* C globals and macro expressions, as functions Swift can call. */
static inline WINDOW *fit_stdscr(void) { return stdscr; }
static inline int fit_colors(void) { return COLORS; }
static inline int fit_color_pairs(void) { return COLOR_PAIRS; }
static inline int fit_lines(void) { return LINES; }
static inline int fit_cols(void) { return COLS; }
static inline attr_t fit_a_bold(void) { return A_BOLD; }
static inline attr_t fit_a_normal(void) { return A_NORMAL; }

/* newterm on the process's stdout/stdin; returns NULL (instead of exiting) for an unknown TERM. */
static inline SCREEN *fit_newterm(const char *term) { return newterm(term, stdout, stdin); }
/* newterm writing to a file, for in-process tests. */
static inline SCREEN *fit_newterm_file(const char *term, const char *path, FILE **out) {
  FILE *o = fopen(path, "w"); if (!o) return NULL; *out = o; return newterm(term, o, stdin);
}

/* Call after setlocale(LC_ALL, ""). */
static inline int fit_locale_is_utf8(void) {
  const char *cs = nl_langinfo(CODESET); return cs && strcmp(cs, "UTF-8") == 0;
}

/* One cell with an extended colour pair (passed through setcchar's opts). */
static inline int fit_put_cell(int y, int x, wchar_t wc, attr_t attr, int pair) {
  cchar_t cc; wchar_t ws[2] = { wc, 0 };
  if (setcchar(&cc, ws, attr, 0, &pair) != OK) return ERR;
  return mvadd_wch(y, x, &cc);
}
#endif
