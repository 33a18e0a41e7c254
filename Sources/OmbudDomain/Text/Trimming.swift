extension StringProtocol {
    /// The string without leading and trailing whitespace and newlines (Unicode `White_Space`), in pure Swift:
    /// Foundation's `trimmingCharacters(in:)` goes through NSString on Linux and showed up in intake profiles.
    public func trimmed() -> String {
        // Most texts have nothing to trim: said without copying (imports trim every cell of a million rows).
        if let first = utf8.first, let last = utf8.reversed().first, first > 0x20, first < 0x80, last > 0x20, last < 0x80 { return String(self) }
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[first...last])
        return String(view)
    }
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal digits of the bytes (a digest printed the usual way).
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
