import CSignalGuard
import FiTKit
#if canImport(Glibc)
import Glibc
#endif

// OpenBLAS picks its kernels while loading; fix a generic fallback before anything runs.
FastKernels.select()
// A file-size limit (or a full quota) must fail a write with an error we report, not kill us.
signal(SIGXFSZ, SIG_IGN)
// Signals remove a half-written file and restore the terminal before the process ends.
fit_guard_install()
FitCommand.main()
