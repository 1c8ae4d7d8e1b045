/// A 24-bit colour.
struct RGB: Hashable, Sendable {
    var r: UInt8
    var g: UInt8
    var b: UInt8

    init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// Parses `#RRGGBB`, `#BW` (a grey) or `"R G B"` in decimal, as btop theme files write colours.
    init?(themeValue text: String) {
        let s = text.trimmingCharacters(in: .whitespaces)
        if s.hasPrefix("#") {
            let hex = s.dropFirst()
            guard let v = UInt32(hex, radix: 16) else { return nil }
            switch hex.count {
            case 6: self.init(UInt8(v >> 16), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF))
            case 2: self.init(UInt8(v), UInt8(v), UInt8(v))
            default: return nil
            }
        } else {
            let parts = s.split(separator: " ").compactMap { UInt8($0) }
            guard parts.count == 3 else { return nil }
            self.init(parts[0], parts[1], parts[2])
        }
    }

    /// Squared distance in RGB.
    func distance(to o: RGB) -> Int {
        let dr = Int(r) - Int(o.r), dg = Int(g) - Int(o.g), db = Int(b) - Int(o.b)
        return dr * dr + dg * dg + db * db
    }

    static let black = RGB(0, 0, 0)
    static let white = RGB(255, 255, 255)
}

import Foundation
