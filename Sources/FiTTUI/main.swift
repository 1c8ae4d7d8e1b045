import FiTKit
#if canImport(Glibc)
import Glibc
#endif

// OpenBLAS picks its kernels while loading; fix a generic fallback before anything runs.
BLASRuntime.selectFastKernels()
// A file-size limit (or a full quota) must fail a write with an error we report, not kill us.
signal(SIGXFSZ, SIG_IGN)
FitCommand.main()
