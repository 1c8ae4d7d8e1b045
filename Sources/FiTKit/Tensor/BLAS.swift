import CBLAS

/// Thin wrappers over `cblas_sgemm` in the two layouts the model needs.
///
/// All matrices are row-major. Weights stay in PyTorch's (out, in) layout and are transposed
/// in the call, so a Linear layer is `y = x · Wᵀ`.
public enum BLAS {
    /// `C[m×n] = alpha · A[m×k] · B[n×k]ᵀ + beta · C`.
    @inline(__always)
    public static func gemmTransposedB(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C[m×n] = alpha · A[m×k] · B[k×n] + beta · C`.
    @inline(__always)
    public static func gemm(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `C[m×n] = alpha · A[k×m]ᵀ · B[k×n] + beta · C`.
    @inline(__always)
    public static func gemmTransposedA(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
