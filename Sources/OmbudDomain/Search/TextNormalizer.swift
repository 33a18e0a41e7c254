import Foundation

/// Folds the spelling variants residents actually type (ё/е, Arabic/Persian letter forms, digit scripts)
/// so that search, duplicate detection and imports compare like with like.
public enum TextNormalizer {
    /// Case-folds (Unicode lowercase), ё→е (and Ё), Arabic ي/ى→Persian ی, ك→ک, Persian ۰-۹ and Arabic-Indic ٠-٩ digits→ASCII 0-9,
    /// removes Arabic diacritics/tatweel and zero-width chars (U+200C ZWNJ becomes a space), collapses whitespace runs to one space, trims.
    public static func normalize(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var pendingSpace = false
        forEachFoldedScalar(text) { scalar in
            if isWhitespace(scalar) {
                pendingSpace = !out.isEmpty
                return
            }
            if pendingSpace {
                out.append(0x20)
                pendingSpace = false
            }
            UTF8.encode(scalar) { out.append($0) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits normalized text into word tokens: maximal runs of letters or digits (Unicode letters incl. Cyrillic, Latin, Arabic/Persian).
    /// Hyphen, punctuation, spaces separate.
    public static func words(_ text: String) -> [String] {
        var result: [String] = []
        var current: [UInt8] = []
        forEachFoldedScalar(text) { scalar in
            switch wordRole(scalar) {
            case .part:
                UTF8.encode(scalar) { current.append($0) }
            case .continuation:
                if !current.isEmpty { UTF8.encode(scalar) { current.append($0) } }
            case .separator:
                if !current.isEmpty {
                    result.append(String(decoding: current, as: UTF8.self))
                    current.removeAll(keepingCapacity: true)
                }
            }
        }
        if !current.isEmpty { result.append(String(decoding: current, as: UTF8.self)) }
        return result
    }

    /// Search keys: words(text) each passed through RussianStemmer.stem when it is Cyrillic, else kept as is.
    public static func searchTokens(_ text: String) -> [String] {
        words(text).map(RussianStemmer.stem).filter { !$0.isEmpty }
    }

    /// searchTokens joined by single spaces, used as the indexed document text.
    public static func searchDocument(_ parts: [String?]) -> String {
        parts.compactMap { $0 }.flatMap(searchTokens).joined(separator: " ")
    }

    /// Digits only from a phone, normalising Russian numbers: 11 digits starting with 8 → leading 7; 10 digits starting with 9 → prefix 7.
    /// Persian and Arabic-Indic digits are accepted. Returns nil when fewer than 5 digits.
    public static func phoneKey(_ phone: String) -> String? {
        var digits = String.UnicodeScalarView()
        for scalar in phone.unicodeScalars {
            if let d = asciiDigit(scalar) { digits.append(d) }
        }
        guard digits.count >= 5 else { return nil }
        var key = String(digits)
        if key.count == 11, key.hasPrefix("8") {
            key = "7" + key.dropFirst()
        } else if key.count == 10, key.hasPrefix("9") {
            key = "7" + key
        }
        return key
    }

    /// Lowercased trimmed e-mail; nil unless it has exactly one "@" with non-empty local and domain parts,
    /// the domain containing a dot, and no whitespace anywhere.
    public static func emailKey(_ email: String) -> String? {
        let key = email.trimmed().lowercased()
        guard !key.unicodeScalars.contains(where: \.properties.isWhitespace) else { return nil }
        let parts = key.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains(".") else { return nil }
        return key
    }

    // MARK: - Scalar folding

    /// Lowercases and folds `text`, handing over every surviving scalar (whitespace included) in order.
    /// normalize and words share this pass so they can never disagree on what a character means.
    private static func forEachFoldedScalar(_ text: String, _ body: (Unicode.Scalar) -> Void) {
        var source = text
        // Decomposed input (macOS file names, some web forms) would otherwise keep "е" + U+0308 apart from "ё".
        if source.unicodeScalars.contains(where: { (0x300...0x36F).contains($0.value) }) {
            source = source.precomposedStringWithCanonicalMapping
        }
        for scalar in source.unicodeScalars {
            // Same result as String.lowercased(), without its cost on the Cyrillic and Arabic-script text that dominates.
            switch scalar.value {
            case 0x41...0x5A, 0x410...0x42F: emit(Unicode.Scalar(scalar.value + 0x20)!, body)
            case 0x400...0x40F: emit(Unicode.Scalar(scalar.value + 0x50)!, body)
            case 0..<0xC0, 0x430...0x45F, 0x600...0x6FF: emit(scalar, body)
            default:
                if scalar.properties.changesWhenLowercased {
                    for lower in scalar.properties.lowercaseMapping.unicodeScalars { emit(lower, body) }
                } else {
                    emit(scalar, body)
                }
            }
        }
    }

    private static func emit(_ lowercased: Unicode.Scalar, _ body: (Unicode.Scalar) -> Void) {
        if let folded = fold(lowercased) { body(folded) }
    }

    /// The replacement for one already-lowercased scalar, or nil when it should vanish.
    private static func fold(_ s: Unicode.Scalar) -> Unicode.Scalar? {
        switch s.value {
        case 0xAD: nil // soft hyphen is invisible
        case 0..<0x451: s // ASCII, Latin-1 and most Cyrillic need no work; checked first because it is nearly all input
        case 0x451: "е" // ё
        case 0x64A, 0x649: "\u{6CC}" // Arabic yeh and alef maksura → Persian yeh
        case 0x643: "\u{6A9}" // Arabic kaf → Persian keheh
        case 0x200C: " " // ZWNJ joins Persian word parts visually; for search they are separate words
        case 0x200B, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF: nil // invisible format characters
        case 0x640: nil // tatweel is pure typographic stretching
        case 0x610...0x61A, 0x64B...0x65F, 0x670, 0x6D6...0x6DC, 0x6DF...0x6E4, 0x6E7, 0x6E8, 0x6EA...0x6ED: nil // harakat and Quranic marks
        default: asciiDigit(s) ?? s
        }
    }

    /// The Unicode White_Space set, spelled out because the property lookup is slow on the indexing hot path.
    private static func isWhitespace(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x9...0xD, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    enum WordRole { case part, continuation, separator }

    static func wordRole(_ s: Unicode.Scalar) -> WordRole {
        switch s.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x430...0x44F: return .part
        case 0..<0x80: return .separator
        default: break
        }
        switch s.properties.generalCategory {
        case .lowercaseLetter, .uppercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .decimalNumber: return .part
        // Vowel signs in Indic and similar scripts belong to the word they follow.
        case .nonspacingMark, .spacingMark: return .continuation
        default: return .separator
        }
    }

    /// The text with Persian and Arabic-Indic digits written as Latin ones (what people type on a Persian keyboard into
    /// a phone number, a code or a date).
    public static func latinDigits(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { asciiDigit($0) ?? $0 }))
    }

    /// An ASCII, Persian or Arabic-Indic digit as ASCII; nil for anything else.
    static func asciiDigit(_ s: Unicode.Scalar) -> Unicode.Scalar? {
        switch s.value {
        case 0x30...0x39: s
        case 0x660...0x669: Unicode.Scalar(UInt8(s.value - 0x660) + 0x30)
        case 0x6F0...0x6F9: Unicode.Scalar(UInt8(s.value - 0x6F0) + 0x30)
        default: nil
        }
    }
}
