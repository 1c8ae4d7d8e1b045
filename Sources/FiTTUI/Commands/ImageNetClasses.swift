import FiTKit
import Foundation

/// The ImageNet-1k class names (ILSVRC-2012 order) that ship with `fit`, for official
/// checkpoints that carry no `class_names` metadata.
enum ImageNetClasses {
    static let count = 1000

    /// The 1000 names, synonyms separated by commas.
    static func names() throws -> [String] {
        guard let path = BundledResource.path("imagenet-1k-classes.json"),
              let data = FileManager.default.contents(atPath: path),
              let names = try? JSONDecoder().decode([String].self, from: data), names.count == count else {
            throw FiTError.invalidInput("the ImageNet class names are missing (\(BundledResource.expectedPath("imagenet-1k-classes.json"))); install with `make install`")
        }
        return names
    }
}
