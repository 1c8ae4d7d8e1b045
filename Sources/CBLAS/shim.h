#ifndef FIT_CBLAS_SHIM_H
#define FIT_CBLAS_SHIM_H
// OpenBLAS's cblas.h, found through pkg-config (Debian: .../openblas-pthread/cblas.h).
#include <cblas.h>
#endif
