/// What a user asked for: every setting optional. ``GenerationPlan`` fills the gaps from a PNG's
/// record, then the model's recommendations, then its family's defaults.
public struct GenerationRequest: Sendable, Equatable {
    /// A class name or id (required unless a record gives one).
    public var classLabel: String?
    /// Image size in pixels.
    public var width: Int?
    public var height: Int?
    public var steps: Int?
    public var sampler: SamplerKind?
    public var cfg: Double?
    /// Power of the cosine guidance schedule (0: constant).
    public var scalePow: Double?
    public var guidedChannels: Int?
    public var seed: UInt64?
    public var rope: RoPEChoice

    public init(classLabel: String? = nil, width: Int? = nil, height: Int? = nil, steps: Int? = nil, sampler: SamplerKind? = nil,
                cfg: Double? = nil, scalePow: Double? = nil, guidedChannels: Int? = nil, seed: UInt64? = nil,
                rope: RoPEChoice = .automatic) {
        self.classLabel = classLabel
        self.width = width
        self.height = height
        self.steps = steps
        self.sampler = sampler
        self.cfg = cfg
        self.scalePow = scalePow
        self.guidedChannels = guidedChannels
        self.seed = seed
        self.rope = rope
    }

    /// Sets `width` and `height` from "WxH" text (see ``ImageGeometry/parse(_:)``).
    public mutating func setSize(_ text: String) throws {
        (width, height) = try ImageGeometry.parse(text)
    }
}

/// Which RoPE setting a generation uses.
public enum RoPEChoice: Sendable, Equatable {
    /// A PNG's recorded setting when replaying one, else the model's advice for the size (its
    /// extrapolation setting beyond the trained sizes), else the model's own configuration.
    case automatic
    /// The model's own configuration at every size.
    case modelDefault
    /// This setting.
    case explicit(RoPEScaling)

    /// `.explicit(scaling)`, or `.automatic` for `nil`.
    public init(_ scaling: RoPEScaling?) {
        self = scaling.map { .explicit($0) } ?? .automatic
    }
}
