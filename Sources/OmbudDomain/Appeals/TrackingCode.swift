/// Human-friendly appeal number `YYYY-NNNNNN`: a sequence per year that is never reused.
public struct TrackingCode: Hashable, Sendable, CustomStringConvertible {
    public let year: Int
    public let number: Int

    public init(year: Int, number: Int) {
        self.year = year
        self.number = number
    }

    public init?(_ text: String) {
        let parts = text.trimmingCharacters(in: .whitespaces).split(separator: "-")
        guard parts.count == 2, parts[0].count == 4, parts[1].count >= 6,
              parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
              let year = Int(parts[0]), let number = Int(parts[1]), number > 0 else { return nil }
        self.init(year: year, number: number)
    }

    public var description: String {
        let digits = String(number)
        return "\(year)-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

import Foundation
