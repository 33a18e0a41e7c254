import Foundation

/// What the public may see of an appeal's place: a point snapped to the centre of a grid cell of about 550 m, so the
/// map shows the neighbourhood of a problem but never which door it came from.
public enum PublicLocation {
    public static let cell = 0.005

    public static func approximate(lat: Double, lon: Double, cell: Double = cell) -> (lat: Double, lon: Double) {
        func snap(_ v: Double) -> Double { (((v / cell).rounded(.down) + 0.5) * cell * 1_000_000).rounded() / 1_000_000 }
        return (snap(lat), snap(lon))
    }

    /// Great-circle distance in metres.
    public static func distance(_ a: (lat: Double, lon: Double), _ b: (lat: Double, lon: Double)) -> Double {
        let r = 6_371_000.0, rad = Double.pi / 180
        let dLat = (b.lat - a.lat) * rad, dLon = (b.lon - a.lon) * rad
        let h = sin(dLat / 2) * sin(dLat / 2) + cos(a.lat * rad) * cos(b.lat * rad) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * r * asin(min(1, sqrt(h)))
    }
}

/// A limit of `limit` events per `window` per key (a client address): the portal's defence against floods.
public struct RateLimit: Sendable, Equatable {
    public var limit: Int
    public var window: TimeInterval

    /// Appeals from one address: a family or an office may send a few, a script may not send many.
    public static let portalSubmissions = RateLimit(limit: 5, window: 3600)
    /// Ratings and subscriptions: cheap for us, but each may send a mail or move an appeal.
    public static let portalActions = RateLimit(limit: 20, window: 3600)

    public init(limit: Int, window: TimeInterval) {
        self.limit = limit
        self.window = window
    }

    public func allows(recent: Int) -> Bool { recent < limit }

    /// The key a client address is counted under: an IPv4 address as it is, an IPv6 address by its /64 network,
    /// since one subscriber holds a whole /64 and could otherwise take a fresh address for every request.
    public static func addressKey(_ address: String) -> String {
        guard address.contains(":") else { return address }
        // An IPv4 client on a dual-stack socket (`::ffff:203.0.113.7`) is that IPv4 address, not the network ::/64.
        if let last = address.split(separator: ":").last, last.contains("."), address.lowercased().hasPrefix("::ffff:") { return String(last) }
        var groups: [String] = []
        let halves = address.lowercased().split(separator: "::", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let head = halves[0].split(separator: ":").map(String.init)
        let tail = halves.count > 1 ? halves[1].split(separator: ":").map(String.init) : []
        // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups; only the first four groups matter here.
        let tailCount = tail.reduce(0) { $0 + ($1.contains(".") ? 2 : 1) }
        groups = head + Array(repeating: "0", count: max(0, 8 - head.count - tailCount)) + tail
        let prefix = groups.prefix(4).map { String(Int($0, radix: 16) ?? 0, radix: 16) }
        return prefix.joined(separator: ":") + "::/64"
    }
}

/// A citizen's rating of the answer: 1–5, a comment, and whether the problem was solved.
public struct AnswerRating: Sendable, Equatable {
    public static let maxComment = 2000
    public let score: Int
    public let comment: String?
    public let solved: Bool

    public init(score raw: String?, comment: String?, solved raw2: String?) throws(ValidationError) {
        guard let raw = raw?.trimmed(), !raw.isEmpty else { throw ValidationError(field: "score", reason: "is required") }
        guard let score = Int(raw), (1...5).contains(score) else { throw ValidationError(field: "score", reason: "must be 1 to 5") }
        guard let solved = raw2?.trimmed(), ["yes", "no"].contains(solved) else { throw ValidationError(field: "solved", reason: "say yes or no") }
        self.score = score
        self.comment = try Validate.text(comment, field: "comment", required: false, max: Self.maxComment)
        self.solved = solved == "yes"
    }

    /// A rating may be given while the answer stands: once the appeal is answered and until it is closed.
    public static func isOpen(stateAnswered: Bool, terminal: Bool) -> Bool { stateAnswered && !terminal }

    /// The workflow moves the verdict makes from `state`: the feedback is in (answered → feedback), and a problem not
    /// solved goes back to work (→ in-progress).
    public func moves(from state: String) -> [String] {
        (state == "answered" ? ["feedback"] : []) + (solved ? [] : ["in-progress"])
    }
}

/// An e-mail subscription to new public appeals in an area: a district, or a circle around a point.
public struct AreaSubscription: Sendable, Equatable {
    public static let maxRadius = 5_000.0
    public let district: String?
    public let center: (lat: Double, lon: Double)?
    public let radius: Double?

    public static func == (a: AreaSubscription, b: AreaSubscription) -> Bool {
        a.district == b.district && a.center?.lat == b.center?.lat && a.center?.lon == b.center?.lon && a.radius == b.radius
    }

    public init(district: String?, lat: String?, lon: String?, radius: String?) throws(ValidationError) {
        let district = district?.trimmed()
        let lat = lat?.trimmed() ?? "", lon = lon?.trimmed() ?? ""
        if !lat.isEmpty || !lon.isEmpty {
            guard let y = Double(lat), (-90...90).contains(y) else { throw ValidationError(field: "lat", reason: "must be a number between -90 and 90") }
            guard let x = Double(lon), (-180...180).contains(x) else { throw ValidationError(field: "lon", reason: "must be a number between -180 and 180") }
            let r = radius?.trimmed() ?? ""
            guard let metres = Double(r.isEmpty ? "1000" : r), metres >= 100, metres <= Self.maxRadius else {
                throw ValidationError(field: "radius", reason: "must be 100 to \(Int(Self.maxRadius)) metres")
            }
            self.center = (y, x)
            self.radius = metres
            self.district = nil
        } else {
            guard let district, !district.isEmpty else { throw ValidationError(field: "district", reason: "choose a district or a point") }
            guard district.count <= 200 else { throw ValidationError(field: "district", reason: "is longer than 200 characters") }
            self.district = district
            self.center = nil
            self.radius = nil
        }
    }

    public init(district: String?, center: (lat: Double, lon: Double)?, radius: Double?) {
        self.district = district
        self.center = center
        self.radius = radius
    }

    /// Whether an appeal at this district and point (its public, approximate point) lies in the area.
    public func covers(district: String?, lat: Double?, lon: Double?) -> Bool {
        if let center, let radius {
            guard let lat, let lon else { return false }
            return PublicLocation.distance(center, (lat, lon)) <= radius
        }
        guard let mine = self.district, let theirs = district else { return false }
        return TextNormalizer.normalize(mine.trimmed()) == TextNormalizer.normalize(theirs.trimmed())
    }
}
