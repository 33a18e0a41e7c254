import Foundation

/// A call about a problem the centre already has open: the same topic at the same place (within `radius` metres of
/// its point, or at the same address when either has no point). The operator sees those appeals while registering and
/// can add the call to one of them instead of opening a duplicate.
public struct RepeatContactRule: Sendable, Equatable {
    public var radius: Double

    public static let defaultRadius = 150.0

    public init(radius: Double = defaultRadius) { self.radius = radius }

    public struct Place: Sendable, Equatable {
        public var topics: Set<String>
        public var address: String?
        public var lat: Double?
        public var lon: Double?

        public init(topics: Set<String>, address: String?, lat: Double? = nil, lon: Double? = nil) {
            self.topics = topics
            self.address = address
            self.lat = lat
            self.lon = lon
        }

        var addressWords: Set<String>? { address.flatMap(RepeatContactRule.addressWords) }
        var point: (lat: Double, lon: Double)? { lat.flatMap { lat in lon.map { (lat, $0) } } }
    }

    public enum Match: Sendable, Equatable {
        /// Metres between the points.
        case near(Double)
        case sameAddress
    }

    /// Whether `open` is the same problem as the one being registered; nil when it is not.
    public func match(_ new: Place, _ open: Place) -> Match? {
        guard !new.topics.isDisjoint(with: open.topics) else { return nil }
        if let a = new.point, let b = open.point {
            let d = PublicLocation.distance(a, b)
            if d <= radius { return .near(d) }
        }
        if let a = new.addressWords, a == open.addressWords { return .sameAddress }
        return nil
    }

    /// Whether there is anything to look for: a topic and a place.
    public func applies(to new: Place) -> Bool { !new.topics.isEmpty && (new.point != nil || new.addressWords != nil) }

    /// The latitude and longitude span that holds every point within `radius` of `center` (for an indexed query).
    public func box(around center: (lat: Double, lon: Double)) -> (lat: ClosedRange<Double>, lon: ClosedRange<Double>) {
        let dLat = radius / 111_320.0
        let dLon = radius / (111_320.0 * max(cos(center.lat * .pi / 180), 0.01))
        return ((center.lat - dLat)...(center.lat + dLat), (center.lon - dLon)...(center.lon + dLon))
    }

    /// The words that name a place, in any order and whatever the street type is written as: "ул. Садовая, д. 5",
    /// "Садовая ул., 5" and "садовая улица дом 5 кв 12" are one place (the flat is not part of the problem's place).
    public static func addressWords(_ address: String) -> Set<String>? {
        var words: Set<String> = []
        var skipNext = false
        for word in TextNormalizer.words(address) {
            if skipNext { skipNext = false; continue }
            if ["кв", "квартира", "оф", "офис", "комн", "комната"].contains(word) { skipNext = true; continue }
            if !addressNoise.contains(word) { words.insert(word) }
        }
        return words.isEmpty ? nil : words
    }

    static let addressNoise: Set<String> = [
        "ул", "улица", "д", "дом", "пр", "просп", "проспект", "пер", "переулок", "наб", "набережная", "пл", "площадь", "ш", "шоссе",
        "б", "р", "бульвар", "г", "город", "санкт", "петербург", "спб", "москва", "корп", "корпус", "к", "стр", "строение", "лит", "литера",
    ]

    /// "59.9386, 30.3141" (a point as operators paste it from a map); nil when it is not one.
    public static func point(_ text: String) -> (lat: Double, lon: Double)? {
        let parts = TextNormalizer.latinDigits(text).split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " }).filter { !$0.isEmpty }
        guard parts.count == 2, let lat = Double(parts[0]), let lon = Double(parts[1]), (-90...90).contains(lat), (-180...180).contains(lon) else {
            return nil
        }
        return (lat, lon)
    }
}
