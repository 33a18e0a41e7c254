import Foundation

/// How a citizen registered at reception or by phone follows the appeal on the portal: its tracking code with the PIN
/// printed on the slip, or with the phone or e-mail given at intake, spelled any way.
public enum Tracking {
    public static let pinLength = 6

    /// Lookups from one address: enough for a family's appeals and typing mistakes, too few to guess a PIN.
    public static let attempts = RateLimit(limit: 10, window: 600)
    /// Lookups of one tracking code from anywhere: a PIN of six digits is not guessed in 30 tries a day, and its owner
    /// rarely looks more often (the page gives them a link to come back by).
    public static let lookupsPerCode = RateLimit(limit: 30, window: 86_400)

    public static func newPIN() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<pinLength).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
    }

    /// The PIN as typed: its digits (Persian and Arabic-Indic digits too), nil unless there are exactly six.
    public static func pin(_ typed: String) -> String? {
        let digits = typed.unicodeScalars.compactMap { scalar -> Character? in
            guard let value = scalar.properties.numericType == .decimal ? scalar.properties.numericValue : nil else { return nil }
            return Character(String(Int(value)))
        }
        guard digits.count == pinLength, typed.unicodeScalars.allSatisfy({ $0.properties.numericType == .decimal || $0 == " " || $0 == "-" })
        else { return nil }
        return String(digits)
    }

    /// Whether `typed` is one of the appeal's contacts: an e-mail in any case, a phone in any spelling — with or
    /// without the country code or trunk 8/0, spaces, brackets, dashes, Persian digits.
    public static func contactMatches(_ typed: String, phones: [String], emails: [String]) -> Bool {
        if typed.contains("@") {
            guard let key = TextNormalizer.emailKey(typed) else { return false }
            return emails.contains { TextNormalizer.emailKey($0) == key }
        }
        guard let typedKey = TextNormalizer.phoneKey(typed), typedKey.count >= 7 else { return false }
        return phones.contains { phone in
            guard let key = TextNormalizer.phoneKey(phone) else { return false }
            if key == typedKey { return true }
            // «+98 912 123 4567» and «0912 123 4567»: the same subscriber number behind different prefixes.
            return key.count >= 10 && typedKey.count >= 10 && key.suffix(10) == typedKey.suffix(10)
        }
    }
}
