import Foundation

/// Every setting needed to make an image again, stored as JSON in the PNG `tEXt` chunk
/// `parameters` (see `fit generate --from`).
public struct GenerationRecord: Codable, Sendable, Equatable {
    /// The PNG text keyword that holds the record.
    public static let textKey = "parameters"

    public var software: String
    /// The checkpoint as it was given, and its file name.
    public var modelPath: String
    public var model: String
    /// ``ModelFingerprint`` of the checkpoint.
    public var modelHash: String
    public var classID: Int
    public var className: String?
    /// Image size in pixels.
    public var width: Int
    public var height: Int
    public var steps: Int
    public var sampler: SamplerKind
    public var cfg: Double
    public var scalePow: Double
    public var guidedChannels: Int?
    public var seed: UInt64
    /// `RoPEInterpolation` name, or `nil` for the model's own setting.
    public var interpolation: String?
    public var decouple: Bool
    public var oriMaxPeLen: Int?
    /// The transformer's precision; `nil` in images made before the setting existed (fp32).
    public var precision: Precision?

    enum CodingKeys: String, CodingKey {
        case software, modelPath = "model_path", model, modelHash = "model_hash", classID = "class"
        case className = "class_name", width, height, steps, sampler, cfg, scalePow = "scale_pow"
        case guidedChannels = "guided_channels", seed, interpolation, decouple, oriMaxPeLen = "ori_max_pe_len"
        case precision
    }

    public init(software: String, modelPath: String, modelHash: String, classID: Int, className: String?,
                width: Int, height: Int, steps: Int, sampler: SamplerKind, cfg: Double, scalePow: Double,
                guidedChannels: Int?, seed: UInt64, rope: RoPEScaling?, precision: Precision = .fp32) {
        self.software = software
        self.modelPath = modelPath
        self.model = URL(fileURLWithPath: modelPath).lastPathComponent
        self.modelHash = modelHash
        self.classID = classID
        self.className = className
        self.width = width
        self.height = height
        self.steps = steps
        self.sampler = sampler
        self.cfg = cfg
        self.scalePow = scalePow
        self.guidedChannels = guidedChannels
        self.seed = seed
        self.interpolation = rope?.interpolation.rawValue
        self.decouple = rope?.decouple ?? false
        self.oriMaxPeLen = rope?.oriMaxPeLen
        self.precision = precision
    }

    /// The RoPE setting recorded, or `nil` for the model's own.
    public var rope: RoPEScaling? {
        guard let interpolation, let mode = RoPEInterpolation(rawValue: interpolation) else { return nil }
        return RoPEScaling(interpolation: mode, decouple: decouple, oriMaxPeLen: oriMaxPeLen)
    }

    /// The text chunks of a picture fit made: this record and the software.
    public func pngText() throws -> [(String, String)] {
        [(Self.textKey, try json()), ("Software", "fit")]
    }

    /// The record as one line of JSON.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The record in a PNG's text chunks, or an error saying the image was not made by fit.
    public static func from(pngText text: [String: String], path: String) throws -> GenerationRecord {
        guard let json = text[textKey] else {
            throw FiTError.invalidInput("\(path) has no '\(textKey)' metadata: it was not made by fit generate, so it cannot be regenerated")
        }
        do {
            return try JSONDecoder().decode(GenerationRecord.self, from: Data(json.utf8))
        } catch {
            throw FiTError.invalidInput("\(path): its '\(textKey)' metadata is not a fit generation record (\(error))")
        }
    }
}
