#ifndef FIT_CPNG_SHIM_H
#define FIT_CPNG_SHIM_H
#include <png.h>
#endif
