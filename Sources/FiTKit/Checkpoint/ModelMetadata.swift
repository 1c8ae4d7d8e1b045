import Foundation

/// What a checkpoint says about using it, beyond its network configuration: class names and the
/// recommended sampling settings (safetensors metadata keys `class_names` and `fit_sampling`).
public struct ModelMetadata: Sendable, Equatable {
    /// Class names by id, when the checkpoint carries them.
    public var classNames: [String]?
    /// Recommended settings (any may be absent).
    public var recommended: RecommendedSampling

    /// The settings a model's author recommends, as stored in `fit_sampling` (JSON).
    public struct RecommendedSampling: Codable, Sendable, Equatable {
        public var sampler: SamplerKind?
        public var steps: Int?
        public var cfg: Double?
        public var scalePow: Double?
        public var interpolation: String?
        public var decouple: Bool?
        public var oriMaxPeLen: Int?
        /// Default image size "WxH" in pixels.
        public var size: String?
        /// The RoPE setting for sizes beyond those the model was trained at.
        public var extrapolation: Extrapolation?

        public init() {}

        enum CodingKeys: String, CodingKey {
            case sampler, steps, cfg, scalePow = "scale_pow", interpolation, decouple
            case oriMaxPeLen = "ori_max_pe_len", size, extrapolation
        }

        /// RoPE for grids beyond the trained ones: more than `trainedTokens` cells, or a side
        /// longer than `trainedSide` cells (`fit_sampling.extrapolation`).
        public struct Extrapolation: Codable, Sendable, Equatable {
            public var interpolation: String
            public var decouple: Bool?
            public var oriMaxPeLen: Int?
            public var trainedTokens: Int
            public var trainedSide: Int

            enum CodingKeys: String, CodingKey {
                case interpolation, decouple, oriMaxPeLen = "ori_max_pe_len"
                case trainedTokens = "trained_tokens", trainedSide = "trained_side"
            }
        }

        /// Whether a grid of `height × width` cells lies beyond the trained sizes.
        public func isBeyondTraining(height: Int, width: Int) -> Bool {
            guard let extrapolation else { return false }
            return height * width > extrapolation.trainedTokens || max(height, width) > extrapolation.trainedSide
        }

        /// The recommended RoPE setting for a grid of `height × width` cells: the extrapolation
        /// setting beyond the trained sizes, else the plain recommendation; nil when the model
        /// recommends nothing (or a method fit does not know).
        public func rope(height: Int, width: Int) -> RoPEScaling? {
            if let extrapolation, isBeyondTraining(height: height, width: width) {
                return RoPEInterpolation(rawValue: extrapolation.interpolation).map {
                    RoPEScaling(interpolation: $0, decouple: extrapolation.decouple ?? false, oriMaxPeLen: extrapolation.oriMaxPeLen)
                }
            }
            return interpolation.flatMap(RoPEInterpolation.init(rawValue:)).map {
                RoPEScaling(interpolation: $0, decouple: decouple ?? false, oriMaxPeLen: oriMaxPeLen)
            }
        }
    }

    /// Reads the metadata of `file`; malformed entries are errors naming the key.
    public init(file: SafetensorsFile) throws {
        if let names = file.metadata["class_names"] {
            guard let list = try? JSONDecoder().decode([String].self, from: Data(names.utf8)) else {
                throw FiTError.invalidConfiguration("\(file.path): metadata 'class_names' is not a JSON array of strings")
            }
            classNames = list
        }
        recommended = RecommendedSampling()
        if let json = file.metadata["fit_sampling"] {
            do {
                recommended = try JSONDecoder().decode(RecommendedSampling.self, from: Data(json.utf8))
            } catch {
                throw FiTError.invalidConfiguration("\(file.path): metadata 'fit_sampling' is malformed (\(error))")
            }
        }
    }

    /// The class id named by `text`: a number, or a class name (case-insensitive). An unknown
    /// name is an error that lists the closest names (or all of them when there are few).
    public func classID(for text: String, numClasses: Int) throws -> Int {
        if let id = Int(text) {
            guard id >= 0, id < numClasses else { throw FiTError.classOutOfRange(label: id, numClasses: numClasses) }
            return id
        }
        guard let names = classNames else {
            throw FiTError.invalidInput("class '\(text)': this model has no class names; give an id 0…\(numClasses - 1)")
        }
        let wanted = text.lowercased()
        if let i = names.firstIndex(where: { $0.lowercased() == wanted }) { return i }
        let matches = names.enumerated().filter { $0.element.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == wanted } }
        if let match = matches.first { return match.offset }
        let suggestions: [String]
        if names.count <= 20 {
            suggestions = names
        } else {
            suggestions = names.sorted { Self.distance($0.lowercased(), wanted) < Self.distance($1.lowercased(), wanted) }
                .prefix(5).map { $0 }
        }
        throw FiTError.invalidInput("unknown class '\(text)'; \(names.count <= 20 ? "classes" : "closest"): \(suggestions.joined(separator: ", "))")
    }

    /// Levenshtein distance.
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(b.count, 1) where !b.isEmpty {
                let saved = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = saved
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
