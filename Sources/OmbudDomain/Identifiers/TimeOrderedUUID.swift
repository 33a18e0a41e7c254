import Foundation

extension UUID {
    /// A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.
    ///
    /// Rows keyed by these land at the end of their B-tree indexes instead of on a random page, so a batch of new
    /// appeals dirties a handful of pages rather than one per index per row: the write-ahead log, the page cache and
    /// the PostgreSQL buffers all stay small. Their text form sorts by creation time too.
    public static func timeOrdered(at date: Date = Date()) -> UUID {
        var generator = SystemRandomNumberGenerator()
        return timeOrdered(at: date, using: &generator)
    }

    public static func timeOrdered<G: RandomNumberGenerator>(at date: Date, using generator: inout G) -> UUID {
        let millis = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded(.down)))
        let random = (generator.next() as UInt64, generator.next() as UInt64)
        var bytes: [UInt8] = (0..<6).map { UInt8(truncatingIfNeeded: millis >> (40 - 8 * UInt64($0))) }
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: random.0 >> (8 * UInt64($0))) }
        bytes += (0..<2).map { UInt8(truncatingIfNeeded: random.1 >> (8 * UInt64($0))) }
        bytes[6] = 0x70 | (bytes[6] & 0x0f)  // version 7
        bytes[8] = 0x80 | (bytes[8] & 0x3f)  // variant 10xx
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }
}
