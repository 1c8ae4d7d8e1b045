import CDNNL
import Foundation

/// A 3×3 convolution (stride 1, zero padding 1) as a oneDNN primitive in bfloat16 with float32
/// accumulation: the VAE decoder's convolutions in bf16 (in fp32 they run as Winograd on OpenBLAS,
/// which measured faster than oneDNN's fp32 convolution; docs/cpu.md §4.1).
///
/// oneDNN's fast convolutions read and write channels-last (NHWC) images, while FiTKit keeps
/// images channel-major (C, H, W). Each call therefore gathers its input into an NHWC buffer in
/// bfloat16 — applying the nearest ×2 upsampling and the GroupNorm + SiLU affine
/// on the way, as the Winograd path does — runs the primitive into an NHWC float32 buffer, and
/// scatters that back into (C, H, W), adding the bias (and the output's old values when
/// accumulating). The weights are reordered once into the layout the primitive wants; there is
/// one primitive per output size, made on first use.
///
/// `@unchecked Sendable`: the packed weights are written once in `init`; the primitive cache is guarded by `lock`.
final class OneDNNConvolution: @unchecked Sendable {
    let outChannels: Int
    let inChannels: Int
    private let bias: Tensor
    /// The weights in PyTorch's (out, in, 3, 3) layout, float32, for sizes whose primitive wants
    /// a layout other than ``packedDesc`` (see ``makeEntry(height:width:)``).
    private let plainWeights: Tensor
    private let packedDesc: dnnl_memory_desc_t
    private let packed: UnsafeMutableRawPointer
    private var primitives: [Size: Entry] = [:]
    private let lock = NSLock()

    private struct Size: Hashable { let height: Int, width: Int }

    /// A primitive for one output size, with its own weight copy when it wants another layout.
    private final class Entry {
        let primitive: dnnl_primitive_t
        let source: dnnl_memory_desc_t
        let weightsDesc: dnnl_memory_desc_t
        let destination: dnnl_memory_desc_t
        let ownWeights: UnsafeMutableRawPointer?

        init(primitive: dnnl_primitive_t, source: dnnl_memory_desc_t, weightsDesc: dnnl_memory_desc_t,
             destination: dnnl_memory_desc_t, ownWeights: UnsafeMutableRawPointer?) {
            (self.primitive, self.source, self.weightsDesc, self.destination, self.ownWeights)
                = (primitive, source, weightsDesc, destination, ownWeights)
        }

        deinit {
            dnnl_primitive_destroy(primitive)
            ownWeights?.deallocate()
        }
    }

    /// Converts and reorders `weight` (out, in, 3, 3), float32; `bias` stays float32.
    init(weight: Tensor, bias: Tensor) throws {
        precondition(weight.shape.count == 4 && weight.shape[2] == 3 && weight.shape[3] == 3, "a 3×3 convolution weight")
        (outChannels, inChannels) = (weight.shape[0], weight.shape[1])
        self.bias = bias
        plainWeights = weight
        // The layout the primitive chooses at a typical size serves (almost) every size.
        let pd = try Self.descriptor(outChannels: outChannels, inChannels: inChannels, height: 64, width: 64)
        defer { dnnl_primitive_desc_destroy(pd) }
        guard let chosen = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0) else {
            throw FiTError.oneDNN("the convolution did not report its weights layout")
        }
        packedDesc = chosen.pointee
        packed = try Self.reordered(weight, to: packedDesc)
    }

    deinit { packed.deallocate() }

    /// Convolves `input` (inChannels, h, w) into `output` (outChannels, h·s, w·s), s = 2 when
    /// `upsampling`; `normalizing` is applied to the input as it is read; with `accumulate` the
    /// result is added to `output`. Runs on ``Parallel/threads`` threads.
    func apply(_ input: UnsafePointer<Float>, height h: Int, width w: Int, upsampling: Bool,
               normalizing: ChannelAffine?, into output: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let scale = upsampling ? 2 : 1
        let oh = h * scale, ow = w * scale, pixels = oh * ow
        let entry = primitive(height: oh, width: ow)
        let gathered = BFloat16Buffer(count: pixels * inChannels)
        gather(input, height: h, width: w, scale: scale, normalizing: normalizing, into: gathered.pointer)
        let result = ScratchPool.shared.borrow(pixels * outChannels)
        defer { ScratchPool.shared.giveBack(result) }
        OneDNN.run(entry.primitive, arguments: [
            (DNNL_ARG_SRC, entry.source, UnsafeRawPointer(gathered.pointer)),
            (DNNL_ARG_WEIGHTS, entry.weightsDesc, UnsafeRawPointer(entry.ownWeights ?? packed)),
            (DNNL_ARG_DST, entry.destination, UnsafeRawPointer(result.pointer)),
        ])
        scatter(result.pointer, pixels: pixels, width: ow, into: output, accumulate: accumulate)
    }

    /// Writes the (upsampled, normalised) input as NHWC rows of bfloat16, in parallel over
    /// output rows; one channel's row at a time goes through a small float buffer.
    private func gather(_ input: UnsafePointer<Float>, height h: Int, width w: Int, scale: Int,
                        normalizing: ChannelAffine?, into destination: UnsafeMutablePointer<UInt16>) {
        let ow = w * scale, c = inChannels
        Parallel.forEachChunk(count: h * scale, minimumChunk: 1) { rows in
            let row = UnsafeMutablePointer<Float>.allocate(capacity: ow)
            defer { row.deallocate() }
            for y in rows {
                for channel in 0..<c {
                    let source = input + channel * h * w + (y / scale) * w
                    if scale == 1 {
                        row.update(from: source, count: w)
                    } else {
                        for x in 0..<w { row[2 * x] = source[x]; row[2 * x + 1] = source[x] }
                    }
                    normalizing?.apply(row, into: row, count: ow, channel: channel)
                    let d = destination + y * ow * c + channel
                    for x in 0..<ow { d[x * c] = BFloat16.bits(row[x]) }
                }
            }
        }
    }

    /// `output[o, p] (+)= result[p, o] + bias[o]`, in parallel over rows of `width` pixels.
    private func scatter(_ result: UnsafePointer<Float>, pixels: Int, width: Int,
                         into output: UnsafeMutablePointer<Float>, accumulate: Bool) {
        let o = outChannels
        Parallel.forEachChunk(count: pixels / width, minimumChunk: 1) { rows in
            for y in rows {
                let block = result + y * width * o
                for channel in 0..<o {
                    let d = output + channel * pixels + y * width, b = bias.data[channel]
                    if accumulate {
                        for x in 0..<width { d[x] += block[x * o + channel] + b }
                    } else {
                        for x in 0..<width { d[x] = block[x * o + channel] + b }
                    }
                }
            }
        }
    }

    /// The primitive for an output of `height` × `width`, made on first use.
    private func primitive(height: Int, width: Int) -> Entry {
        let size = Size(height: height, width: width)
        lock.lock()
        defer { lock.unlock() }
        if let e = primitives[size] { return e }
        do {
            let entry = try makeEntry(height: height, width: width)
            primitives[size] = entry
            return entry
        } catch {
            // The same primitive kind accepted these channels at the typical size; a size it
            // cannot serve would be a oneDNN defect, not bad input.
            preconditionFailure("oneDNN refused a 3×3 convolution \(inChannels)→\(outChannels) at \(height)×\(width): \(error)")
        }
    }

    private func makeEntry(height: Int, width: Int) throws -> Entry {
        // The primitive picks its weights layout for this size; when that is not the packed
        // one (oneDNN's implementations differ by size), this size gets its own weight copy.
        let pd = try Self.descriptor(outChannels: outChannels, inChannels: inChannels, height: height, width: width)
        var own: UnsafeMutableRawPointer?
        defer { dnnl_primitive_desc_destroy(pd) }
        guard let wmd = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0),
              let smd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0),
              let dmd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0) else {
            throw FiTError.oneDNN("the convolution did not report its memory layouts")
        }
        var (wanted, packedCopy) = (wmd.pointee, packedDesc)
        if dnnl_memory_desc_equal(&wanted, &packedCopy) == 0 {
            own = try Self.reordered(plainWeights, to: wanted)
        }
        var p: dnnl_primitive_t?
        let status = dnnl_primitive_create(&p, pd)
        guard status == dnnl_success, let p else {
            own?.deallocate()
            throw FiTError.oneDNN("convolution primitive_create failed (dnnl_status_t \(status.rawValue))")
        }
        return Entry(primitive: p, source: smd.pointee, weightsDesc: wanted, destination: dmd.pointee, ownWeights: own)
    }

    /// A convolution's primitive descriptor (the caller destroys it): NHWC bfloat16 input, NHWC
    /// float32 output, bfloat16 weights in the layout the primitive prefers.
    private static func descriptor(outChannels: Int, inChannels: Int, height: Int, width: Int) throws -> dnnl_primitive_desc_t {
        guard let engine = OneDNN.engine else { throw FiTError.oneDNN("no CPU engine") }
        var src = dnnl_memory_desc_t(), wei = dnnl_memory_desc_t(), dst = dnnl_memory_desc_t()
        try OneDNN.check(fit_dnnl_image(&src, Int64(inChannels), Int64(height), Int64(width), dnnl_bf16, dnnl_nhwc), "convolution input")
        try OneDNN.check(fit_dnnl_image(&dst, Int64(outChannels), Int64(height), Int64(width), dnnl_f32, dnnl_nhwc), "convolution output")
        try OneDNN.check(fit_dnnl_filter(&wei, Int64(outChannels), Int64(inChannels), 3, dnnl_bf16, dnnl_format_tag_any),
                         "convolution weights")
        var desc = dnnl_convolution_desc_t()
        try OneDNN.check(fit_dnnl_convolution(&desc, &src, &wei, &dst, 1), "convolution_forward_desc_init")
        var pd: dnnl_primitive_desc_t?
        try OneDNN.check(dnnl_primitive_desc_create(&pd, &desc, nil, engine, nil), "convolution primitive_desc_create")
        return pd!
    }

    /// `weight` (out, in, 3, 3) float32 converted and reordered into `layout`, in a new buffer.
    private static func reordered(_ weight: Tensor, to layout: dnnl_memory_desc_t) throws -> UnsafeMutableRawPointer {
        var plain = dnnl_memory_desc_t(), target = layout
        try OneDNN.check(fit_dnnl_filter(&plain, Int64(weight.shape[0]), Int64(weight.shape[1]), 3, dnnl_f32, dnnl_oihw),
                         "convolution weights")
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(dnnl_memory_desc_get_size(&target), 64), alignment: 64)
        do {
            try OneDNN.reorder(from: plain, UnsafeRawPointer(weight.data), to: layout, buffer)
        } catch {
            buffer.deallocate()
            throw error
        }
        return buffer
    }
}
