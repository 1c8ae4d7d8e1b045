import FiTKit

/// The emoji model that ships inside `fit` (trained by `python/train.py`, exported by
/// `python/export_model.py`), so the explorer makes real pictures with nothing downloaded.
enum EmbeddedModel {
    /// How generation records and messages name it (`--model embedded` works too).
    static let name = "embedded"

    /// The file behind `path`: the bundled resource for ``name``, else `path` itself.
    static func resolve(_ path: String) throws -> String {
        guard path == name else { return path }
        guard let file = BundledResource.path("fit-emoji.safetensors") else {
            throw FiTError.invalidInput("the embedded model is not beside this fit (\(BundledResource.expectedPath("fit-emoji.safetensors")) "
                                        + "is missing): install with `make install`, which copies \(BundledResource.bundleName) next to "
                                        + "the binary, or pass --model PATH")
        }
        return file
    }
}
