import Foundation
import Testing
@testable import FiTKit

/// PNG encoding through libpng with text metadata.
@Suite struct PNGFileTests {
    let image = RGBImage(width: 5, height: 3, pixels: (0..<45).map { UInt8(($0 * 37) % 256) })

    @Test func roundTripsPixelsAndText() throws {
        let data = try PNGFile.encode(image, text: [("parameters", "seed 42, class 3"), ("Software", "fit")])
        let (decoded, text) = try PNGFile.decode(data)
        #expect(decoded == image)
        #expect(text == ["parameters": "seed 42, class 3", "Software": "fit"])
        #expect(Array(data.prefix(8)) == PNGFile.signature)
    }

    @Test func textChunkCRCIsChecked() throws {
        var bytes = Array(try PNGFile.encode(image, text: [("k", "v")]))
        // Corrupt the text chunk's value byte: the chunk is dropped, the image still decodes.
        let v = bytes.firstIndex(of: UInt8(ascii: "v"))!
        bytes[v] = UInt8(ascii: "w")
        #expect(PNGFile.textChunks(bytes).isEmpty)
    }

    @Test func crc32KnownValue() {
        #expect(CRC32.checksum(Array("IEND".utf8)) == 0xAE42_6082)
    }

    @Test func garbageIsAClearError() {
        #expect(throws: FiTError.self) { try PNGFile.decode(Data([1, 2, 3, 4])) }
    }

    @Test func tensorToPixelsFollowsTheOfficialMapping() {
        let t = Tensor(shape: [1, 3, 1, 2], values: [-1, 1, 0, 0.5, 2, -2])
        let img = RGBImage(tensor: t)
        #expect(img[0, 0] == (0, 128, 255))
        #expect(img[1, 0] == (255, 191, 0))
    }
}
