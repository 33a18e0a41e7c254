/// Two cards found to be one person become one: the card kept takes the other's appeals, and from its data what it
/// lacks. Nothing the kept card says is overwritten; contacts are united (a phone written two ways counts once).
public enum ApplicantMerge {
    public struct Card: Equatable, Sendable {
        public var kind: String
        public var surname, name, patronymic, organisationName: String?
        public var phones: [String]
        public var emails: [String]
        public var postalAddress: String?
        public var socialStatus, territory, audience, contactSource: String?
        public var socialLinks: [String]
        public var publicityConsent: Bool

        public init(kind: String, surname: String? = nil, name: String? = nil, patronymic: String? = nil, organisationName: String? = nil,
                    phones: [String] = [], emails: [String] = [], postalAddress: String? = nil, socialStatus: String? = nil,
                    territory: String? = nil, audience: String? = nil, contactSource: String? = nil, socialLinks: [String] = [],
                    publicityConsent: Bool = false) {
            self.kind = kind
            self.surname = surname
            self.name = name
            self.patronymic = patronymic
            self.organisationName = organisationName
            self.phones = phones
            self.emails = emails
            self.postalAddress = postalAddress
            self.socialStatus = socialStatus
            self.territory = territory
            self.audience = audience
            self.contactSource = contactSource
            self.socialLinks = socialLinks
            self.publicityConsent = publicityConsent
        }
    }

    public enum Refusal: Error, Equatable, Sendable {
        /// A person and an organisation are never one applicant.
        case differentKinds
    }

    /// The kept card after absorbing `absorb`. Consent to publicity is the kept card's own: a merge never widens it.
    public static func merged(keep: Card, absorb: Card) throws(Refusal) -> Card {
        guard keep.kind == absorb.kind else { throw .differentKinds }
        var card = keep
        func fill(_ field: WritableKeyPath<Card, String?>) {
            if (card[keyPath: field] ?? "").isEmpty { card[keyPath: field] = absorb[keyPath: field] }
        }
        [\Card.surname, \.name, \.patronymic, \.organisationName, \.postalAddress, \.socialStatus, \.territory, \.audience,
         \.contactSource].forEach(fill)
        card.phones = united(keep.phones, absorb.phones, key: TextNormalizer.phoneKey)
        card.emails = united(keep.emails, absorb.emails, key: TextNormalizer.emailKey)
        card.socialLinks = united(keep.socialLinks, absorb.socialLinks, key: { $0 })
        return card
    }

    private static func united(_ first: [String], _ second: [String], key: (String) -> String?) -> [String] {
        var seen = Set<String>()
        return (first + second).filter { seen.insert(key($0) ?? $0).inserted }
    }
}
