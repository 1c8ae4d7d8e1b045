/// A VAE ResNet block without time embedding:
/// `shortcut(x) + conv2(SiLU(norm2(conv1(SiLU(norm1(x))))))`, shortcut a 1×1 convolution when
/// the channel count changes, else the identity.
struct VAEResnetBlock: Sendable {
    let norm1: GroupNorm
    let conv1: Conv2D
    let norm2: GroupNorm
    let conv2: Conv2D
    let shortcut: Conv2D?

    var outChannels: Int { conv2.outChannels }

    /// Applies the block to `x` (inChannels, h, w) and returns (outChannels, h, w); `x` may be
    /// reused for the result. `shared` is a tiled decode's GroupNorm statistics.
    func apply(_ x: TensorStorage, height h: Int, width w: Int, shared: TileStatistics? = nil) -> TensorStorage {
        let pixels = h * w
        let hidden = TensorStorage(uninitialized: conv1.outChannels * pixels)
        conv1.apply(x.pointer, height: h, width: w,
                    normalizing: norm1.affine(for: x.pointer, height: h, width: w, silu: true, shared: shared),
                    into: hidden.pointer)
        // The residual sum is built in place: in x itself when the channels match.
        let out: TensorStorage
        if let shortcut {
            out = TensorStorage(uninitialized: outChannels * pixels)
            shortcut.apply(x.pointer, height: h, width: w, into: out.pointer)
        } else {
            out = x
        }
        conv2.apply(hidden.pointer, height: h, width: w,
                    normalizing: norm2.affine(for: hidden.pointer, height: h, width: w, silu: true, shared: shared),
                    into: out.pointer, accumulate: true)
        return out
    }
}
