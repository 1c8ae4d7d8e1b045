#ifndef FIT_CNCURSES_SHIM_H
#define FIT_CNCURSES_SHIM_H
// Wide-character ncurses needs these before <curses.h>; defining them here means the build
// does not depend on pkg-config passing them (terminal-rendering.md §2.7).
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>
#endif
