import FiTKit

// OpenBLAS picks its kernels while loading; fix a generic fallback before anything runs.
BLASRuntime.selectFastKernels()
FitCommand.main()
