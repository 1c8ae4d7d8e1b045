import CPNG
import Foundation

/// PNG files through libpng's simplified API, with `tEXt` metadata chunks.
///
/// libpng encodes and decodes the pixels; text chunks are written right after `IHDR` and read
/// back by walking the chunk list (both with the CRC checked), so no `setjmp` error handling
/// crosses into Swift.
public enum PNGFile {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let formatRGB: UInt32 = 0x02 // PNG_FORMAT_RGB
    /// The largest image decoded (pixels): far beyond any size fit makes, and bounded memory for hostile headers.
    public static let maximumPixels = 64 * 1_000_000
    /// The largest PNG file read.
    public static let maximumFileBytes = 256 << 20

    /// The encoded PNG (8-bit RGB) with `text` as `tEXt` chunks (keys ≤ 79 Latin-1 characters).
    public static func encode(_ image: RGBImage, text: [(String, String)] = []) throws -> Data {
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        png.width = UInt32(image.width)
        png.height = UInt32(image.height)
        png.format = formatRGB
        var size: png_alloc_size_t = 0
        let ok = image.pixels.withUnsafeBytes { pixels in
            png_image_write_to_memory(&png, nil, &size, 0, pixels.baseAddress, 0, nil) != 0
        }
        guard ok, size > 0 else { throw FiTError.writeFailed(path: "PNG", reason: libpngMessage(png)) }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let written = image.pixels.withUnsafeBytes { pixels in
            bytes.withUnsafeMutableBytes { out in
                png_image_write_to_memory(&png, out.baseAddress, &size, 0, pixels.baseAddress, 0, nil) != 0
            }
        }
        png_image_free(&png)
        guard written else { throw FiTError.writeFailed(path: "PNG", reason: libpngMessage(png)) }
        bytes.removeSubrange(Int(size)...)
        // Insert the text chunks after IHDR (signature 8 bytes + IHDR 25 bytes).
        let insertAt = 8 + 25
        var chunks = [UInt8]()
        for (key, value) in text {
            chunks += chunk(type: "tEXt", data: Array(key.utf8) + [0] + Array(value.utf8))
        }
        bytes.insert(contentsOf: chunks, at: insertAt)
        return Data(bytes)
    }

    /// Writes `image` to `path` atomically.
    public static func write(_ image: RGBImage, text: [(String, String)] = [], to path: String) throws {
        try AtomicFile.write(try encode(image, text: text), to: path)
    }

    /// Decodes a PNG to 8-bit RGB (any PNG libpng reads) and its `tEXt` chunks.
    public static func decode(_ data: Data, path: String = "PNG") throws -> (image: RGBImage, text: [String: String]) {
        try checkChunkLengths(Array(data), path: path)
        var png = png_image()
        png.version = UInt32(PNG_IMAGE_VERSION)
        let begun = data.withUnsafeBytes { png_image_begin_read_from_memory(&png, $0.baseAddress, $0.count) != 0 }
        guard begun else { throw FiTError.unreadableFile(path: path, reason: "not a PNG (\(libpngMessage(png)))") }
        guard Int(png.width) * Int(png.height) <= maximumPixels else {
            png_image_free(&png)
            throw FiTError.unreadableFile(path: path, reason: "its header claims \(png.width)×\(png.height) pixels; fit reads PNGs of at most \(maximumPixels / 1_000_000) megapixels")
        }
        png.format = formatRGB
        var image = RGBImage(width: Int(png.width), height: Int(png.height))
        let finished = image.pixels.withUnsafeMutableBytes { png_image_finish_read(&png, nil, $0.baseAddress, 0, nil) != 0 }
        png_image_free(&png)
        guard finished else { throw FiTError.unreadableFile(path: path, reason: "corrupt PNG (\(libpngMessage(png)))") }
        return (image, textChunks(Array(data)))
    }

    /// Throws unless every chunk's length stays inside the data. libpng allocates what a chunk's
    /// header claims before it notices that the bytes are missing (2 GB for a forged `tEXt`).
    static func checkChunkLengths(_ bytes: [UInt8], path: String) throws {
        guard bytes.count >= 8, Array(bytes[0..<8]) == signature else { return } // libpng explains what it is not
        var at = 8
        while at + 8 <= bytes.count {
            let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            guard length <= bytes.count - at - 12 else {
                throw FiTError.unreadableFile(path: path, reason: "corrupt PNG (its \(type.debugDescription) chunk claims \(length) bytes, past the end of the file)")
            }
            if type == "IEND" { return }
            at += 12 + length
        }
    }

    /// Reads and decodes the PNG at `path`.
    public static func read(_ path: String) throws -> (image: RGBImage, text: [String: String]) {
        try decode(try RegularFile.read(path, limit: maximumFileBytes), path: path)
    }

    private static func libpngMessage(_ png: png_image) -> String {
        var message = png.message
        return withUnsafeBytes(of: &message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    static func chunk(type: String, data: [UInt8]) -> [UInt8] {
        let typeBytes = Array(type.utf8)
        var out = withUnsafeBytes(of: UInt32(data.count).bigEndian, Array.init)
        out += typeBytes + data
        out += withUnsafeBytes(of: CRC32.checksum(typeBytes + data).bigEndian, Array.init)
        return out
    }

    /// The `tEXt` chunks with a valid CRC, by keyword.
    static func textChunks(_ bytes: [UInt8]) -> [String: String] {
        guard bytes.count > 8, Array(bytes[0..<8]) == signature else { return [:] }
        var result: [String: String] = [:]
        var at = 8
        while at + 12 <= bytes.count {
            let length = Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
            guard at + 12 + length <= bytes.count else { break }
            let type = String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self)
            let body = Array(bytes[(at + 8)..<(at + 8 + length)])
            let crc = bytes[(at + 8 + length)..<(at + 12 + length)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            if type == "tEXt", crc == CRC32.checksum(Array(bytes[(at + 4)..<(at + 8)]) + body),
               let zero = body.firstIndex(of: 0) {
                result[String(decoding: body[..<zero], as: UTF8.self)] = String(decoding: body[(zero + 1)...], as: UTF8.self)
            }
            if type == "IEND" { break }
            at += 12 + length
        }
        return result
    }
}

/// The CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
