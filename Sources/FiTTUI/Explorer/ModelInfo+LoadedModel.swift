import FiTKit
import Foundation

extension ModelInfo {
    /// The explorer's view of a loaded model.
    init(loaded: LoadedModel, seed: UInt64) throws {
        let config = loaded.model.configuration
        let geometry = loaded.geometry
        let recommended = loaded.metadata.recommended
        let samplers = SamplerKind.available(for: config)
        let (width, height) = loaded.defaultSize
        let sampling = loaded.defaultSampling
        let defaults = GenerationSettings(classID: 0, width: width, height: height, steps: sampling.steps,
                                          sampler: sampling.sampler, cfg: sampling.cfg, seed: seed, extrapolation: .auto)
        self.init(name: URL(fileURLWithPath: loaded.path).deletingPathExtension().lastPathComponent,
                  classNames: loaded.metadata.classNames ?? (0..<config.numClasses).map { "class \($0)" },
                  samplers: samplers,
                  sizePresets: SizePreset.standard(nativeSide: geometry.nativeSide, step: geometry.sizeStep, maximumSide: geometry.maximumSide),
                  sizeStep: geometry.sizeStep, maximumSide: geometry.maximumSide, defaults: defaults,
                  previewsAreApproximate: loaded.decoder.previewIsApproximate, recommended: recommended,
                  precision: loaded.model.precision, pixelsPerCell: geometry.pixelsPerCell)
    }
}
