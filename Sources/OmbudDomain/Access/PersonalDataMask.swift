/// How personal data looks to a role without the `personal-data` permission.
///
/// Names, phones, e-mails and postal addresses disappear; an appeal's street address is cut to its district and its
/// point rounded to about a kilometre, which is what a public map may show. An applicant who recorded consent to
/// publicity is shown as is.
public enum PersonalDataMask {
    public static let maskedName = "•••"

    public static func shows(permissions: Set<Permission>, publicityConsent: Bool) -> Bool {
        permissions.contains(.personalData) || publicityConsent
    }

    /// What stands for a masked applicant's name: an organisation keeps its name, a person's is hidden.
    public static func displayName(kind: ApplicantKind, organisationName: String?) -> String {
        kind == .organisation ? (organisationName ?? maskedName) : maskedName
    }

    /// Whether an appeal's street address and exact point are shown: with its applicant, or — when it has none — to
    /// readers who see personal data.
    public static func showsAddress(permissions: Set<Permission>, applicantShown: Bool?) -> Bool {
        applicantShown ?? permissions.contains(.personalData)
    }

    /// A coordinate rounded to two decimals (about 1.1 km of latitude).
    public static func approximate(_ coordinate: Double?) -> Double? {
        coordinate.map { ($0 * 100).rounded() / 100 }
    }
}
