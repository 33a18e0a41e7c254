/// Rules that decide when two applicant cards are probably one person.
public enum ApplicantMatching {
    public struct Card: Sendable {
        public var fullName: String
        public var phoneKeys: Set<String>
        public var emailKeys: Set<String>
        public var address: String?

        public init(fullName: String, phoneKeys: Set<String>, emailKeys: Set<String>, address: String?) {
            self.fullName = fullName
            self.phoneKeys = phoneKeys
            self.emailKeys = emailKeys
            self.address = address
        }
    }

    public enum Reason: String, Sendable, Codable { case samePhone = "same-phone", sameEmail = "same-email", similarNameSameAddress = "similar-name-same-address" }

    /// Whether contacts typed for a caller include one of a card's own phones or e-mails, in any spelling: proof
    /// enough that the caller is that card's person (intake may then link another unit's card).
    public static func sharesContact(typedPhones: [String], typedEmails: [String], phones: [String], emails: [String]) -> Bool {
        let typed = Set(typedPhones.compactMap(TextNormalizer.phoneKey) + typedEmails.compactMap(TextNormalizer.emailKey))
        return !typed.isDisjoint(with: phones.compactMap(TextNormalizer.phoneKey) + emails.compactMap(TextNormalizer.emailKey))
    }

    public static func reasons(_ a: Card, _ b: Card) -> [Reason] {
        var reasons: [Reason] = []
        if !a.phoneKeys.isDisjoint(with: b.phoneKeys) { reasons.append(.samePhone) }
        if !a.emailKeys.isDisjoint(with: b.emailKeys) { reasons.append(.sameEmail) }
        if let x = a.address.map(addressKey), let y = b.address.map(addressKey), !x.isEmpty, x == y,
           similarNames(a.fullName, b.fullName) {
            reasons.append(.similarNameSameAddress)
        }
        return reasons
    }

    /// The street of an address, to find other appeals at it ("ул. Мира, д. 5" → "мира"): the longest word of the
    /// part before the first comma, leaving out numbers and words under three letters ("ул", "д").
    public static func street(_ address: String) -> String? {
        let head = address.split(separator: ",").first.map(String.init) ?? address
        return TextNormalizer.words(head).filter { $0.count >= 3 && !$0.allSatisfy(\.isNumber) }.max { $0.count < $1.count }
    }

    /// The district to suggest from the districts of other appeals at the same street: the most frequent (the first
    /// alphabetically of equals), none when none is known.
    public static func likelyDistrict(_ districts: [String]) -> String? {
        var counts: [String: Int] = [:]
        for district in districts { counts[district, default: 0] += 1 }
        return counts.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }?.key
    }

    public static func addressKey(_ address: String) -> String {
        TextNormalizer.words(address).joined(separator: " ")
    }

    /// Same words in any order, allowing a typo or two per name (Levenshtein ≤ 1 for short words, ≤ 2 for long ones).
    public static func similarNames(_ a: String, _ b: String) -> Bool {
        let x = TextNormalizer.words(a).sorted()
        let y = TextNormalizer.words(b).sorted()
        guard !x.isEmpty, !y.isEmpty else { return false }
        let (short, long) = x.count <= y.count ? (x, y) : (y, x)
        // A missing patronymic still matches: every word of the shorter name must match a word of the longer one.
        return short.allSatisfy { word in
            long.contains { other in distance(word, other) <= (max(word.count, other.count) >= 7 ? 2 : 1) }
        }
    }

    public static func distance(_ a: String, _ b: String) -> Int {
        let x = Array(a), y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var previous = Array(0...y.count)
        var current = previous
        for i in 1...x.count {
            current[0] = i
            for j in 1...y.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[y.count]
    }
}
