extension VAEConfiguration {
    /// Multiply-accumulates to decode one latent of `height`×`width`: every convolution plus the
    /// mid attention's four projections and its two N×N products (norms and activations are
    /// not counted). With `winograd`, 3×3 convolutions count the 16 products per 2×2 output
    /// block that Winograd F(2×2, 3×3) multiplies instead of the direct 36.
    public func decodeMACs(height: Int, width: Int, winograd: Bool = false) -> Int {
        var macs = 0
        var pixels = height * width
        let top = blockOutChannels.last!
        var side = (height, width)
        func conv(_ out: Int, _ inp: Int, _ k: Int) {
            macs += k == 3 && winograd ? out * inp * 16 * ((side.0 + 1) / 2) * ((side.1 + 1) / 2) : out * inp * k * k * pixels
        }
        func resnet(_ inp: Int, _ out: Int) {
            conv(out, inp, 3); conv(out, out, 3)
            if inp != out { conv(out, inp, 1) }
        }
        conv(latentChannels, latentChannels, 1)
        conv(top, latentChannels, 3)
        resnet(top, top)
        if midBlockAddAttention { macs += 4 * top * top * pixels + 2 * top * pixels * pixels }
        resnet(top, top)
        var channels = top
        for (i, out) in blockOutChannels.reversed().enumerated() {
            for _ in 0...layersPerBlock { resnet(channels, out); channels = out }
            if i < blockOutChannels.count - 1 { pixels *= 4; side = (side.0 * 2, side.1 * 2); conv(out, out, 3) }
        }
        conv(outChannels, channels, 3)
        return macs
    }
}
