import Foundation
import OmbudDomain
import Testing

struct TimeOrderedUUIDTests {
    @Test func carriesVersionVariantAndTime() {
        let date = Date(timeIntervalSince1970: 1_795_000_000.123)
        let id = UUID.timeOrdered(at: date)
        let text = id.uuidString
        #expect(text.count == 36)
        #expect(Array(text)[14] == "7")
        #expect("89AB".contains(Array(text)[19]))
        // The first 48 bits are the Unix time in milliseconds.
        let millis = UInt64(text.replacingOccurrences(of: "-", with: "").prefix(12), radix: 16)
        #expect(millis == 1_795_000_000_123)
    }

    @Test func sortsByCreationTimeAsTextAndNeverRepeats() {
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        let ids = (0..<2000).map { UUID.timeOrdered(at: start.addingTimeInterval(Double($0) * 0.002)) }
        #expect(ids.map(\.uuidString) == ids.map(\.uuidString).sorted())
        #expect(Set(ids).count == ids.count)
    }
}
