import Foundation

/// Personal data written into free text — the applicant introducing themselves in the appeal, an answer greeting them
/// by name, a phone number left in a comment — hidden for readers without the personal-data permission, as the St
/// Petersburg portal shows «[скрыто]».
public struct PersonalDataRedaction: Sendable {
    /// The words of the known names, normalised (any case, ё as е), and their stems.
    private let names: Set<String>
    private let nameStems: Set<String>
    /// Known phrases hidden as a whole (a postal address), normalised.
    private let phrases: [String]
    private let hidden: String

    /// - Parameters:
    ///   - names: the applicant's names (surname, name, patronymic; an organisation's name is not personal).
    ///   - phrases: other known values hidden as a whole: postal and street addresses, e-mails, phones as written.
    ///   - hidden: what stands in their place, in the reader's language.
    public init(names: [String?], phrases: [String?], hidden: String) {
        let words = names.compactMap { $0 }.flatMap(TextNormalizer.words).filter { $0.count >= 2 }
        self.names = Set(words)
        nameStems = Set(words.map(RussianStemmer.stem))
        self.phrases = phrases.compactMap { $0.map(TextNormalizer.normalize) }.filter { $0.count >= 5 }
        self.hidden = hidden
    }

    nonisolated(unsafe) private static let email = /[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}/
    /// A run of digits with the separators phone numbers are written with.
    nonisolated(unsafe) private static let phone = /\+?\(?\d[\d \-()\u{00A0}]{5,}\d/

    public func callAsFunction(_ text: String) -> String {
        var out = text.replacing(Self.email) { _ in hidden }
        out = out.replacing(Self.phone) { match in
            let digits = match.output.filter(\.isNumber).count
            let value = String(match.output)
            // 10 or more digits (+7 921 …, 8 921 …), or a city number written 555-12-34; not a date, an amount or a
            // tracking code (2026-000123).
            if value.wholeMatch(of: /\d{4}-\d{6,}/) != nil { return value }
            return digits >= 10 || value.wholeMatch(of: /\d{3}-\d{2}-\d{2}/) != nil ? hidden : value
        }
        for phrase in phrases {
            out = Self.replacingFolded(phrase, in: out, with: hidden)
        }
        guard !nameStems.isEmpty else { return out }
        // Word by word, keeping everything between words as it was.
        var result = ""
        var word = ""
        func flush() {
            guard !word.isEmpty else { return }
            let key = TextNormalizer.words(word).first ?? ""
            result += isName(key) ? hidden : word
            word = ""
        }
        for character in out {
            if character.isLetter { word.append(character) } else { flush(); result.append(character) }
        }
        flush()
        return result
    }

    /// Case endings a name takes in a sentence («Петрову», «Петровым», «Ивана»); a surname's stem alone would also
    /// hide «Петровская».
    private static let endings = ["а", "у", "ом", "ым", "ем", "е", "ой", "ою", "ы", "ых", "им", "ими", "ей", "ю", "я", "и", "ич", "ича", "ичу", "ичем"]

    private func isName(_ word: String) -> Bool {
        guard !word.isEmpty else { return false }
        if names.contains(word) || nameStems.contains(RussianStemmer.stem(word)) { return true }
        return names.contains { name in word.hasPrefix(name) && Self.endings.contains(String(word.dropFirst(name.count))) }
    }

    /// `phrase` (normalised) found in `text` ignoring case and ё/е, replaced.
    private static func replacingFolded(_ phrase: String, in text: String, with replacement: String) -> String {
        let folded = { (s: String) in s.lowercased().replacingOccurrences(of: "ё", with: "е") }
        let haystack = folded(text)
        let needle = folded(phrase)
        guard haystack.count == text.count, let range = haystack.range(of: needle) else { return text }
        let start = text.index(text.startIndex, offsetBy: haystack.distance(from: haystack.startIndex, to: range.lowerBound))
        let end = text.index(start, offsetBy: needle.count)
        let rest = String(text[end...])
        return String(text[..<start]) + replacement + replacingFolded(phrase, in: rest, with: replacement)
    }
}
