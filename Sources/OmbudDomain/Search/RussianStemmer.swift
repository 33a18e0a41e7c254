/// The Snowball Russian stemmer (https://snowballstem.org/algorithms/russian/stemmer.html),
/// transcribed from the reference `russian.sbl`.
///
/// Runs on every indexed word, so it reads letters straight from the UTF-8 bytes
/// and only ever moves the end of the word, never slicing strings.
public enum RussianStemmer {
    public static func stem(_ word: String) -> String {
        // Stemming only makes sense for Cyrillic words; mixed tokens such as model numbers are kept verbatim.
        guard var w = Letters(word) else { return word }
        var hadYo = false
        for k in 0..<w.count where w[k] == letterYo {
            w[k] = letterYe
            hadYo = true
        }

        let rv = regionStart(w)
        let r2 = r2Start(w, from: rv)
        var end = w.count

        // Step 1.
        if let n = removable(perfectiveGerund, w, end: end, rv: rv) {
            end -= n
        } else {
            if let n = reflexive.longestMatch(w, end: end, limit: rv) { end -= n.length }
            if let n = adjective.longestMatch(w, end: end, limit: rv) {
                end -= n.length
                // The participle suffix is optional: its failure leaves the adjective removal in place.
                if let p = removable(participle, w, end: end, rv: rv) { end -= p }
            } else if let n = removable(verb, w, end: end, rv: rv) {
                end -= n
            } else if let n = noun.longestMatch(w, end: end, limit: rv) {
                end -= n.length
            }
        }

        // Step 2.
        if end > rv, w[end - 1] == letterI { end -= 1 }

        // Step 3: the whole derivational suffix must lie in R2.
        if let n = derivational.longestMatch(w, end: end, limit: rv), end - n.length >= r2 { end -= n.length }

        // Step 4.
        if let n = tidyUp.longestMatch(w, end: end, limit: rv) {
            func undoubleN() {
                if end - 2 >= rv, w[end - 1] == letterEn, w[end - 2] == letterEn { end -= 1 }
            }
            switch w[end - 1] {
            case softSign: end -= 1
            case letterEn: undoubleN()
            default: // superlative
                end -= n.length
                undoubleN()
            }
        }

        return end == w.count && !hadYo ? word : w.prefix(end)
    }

    // MARK: - Regions

    private static func isVowel(_ c: UInt16) -> Bool {
        switch c {
        case 0x430, 0x435, 0x438, 0x43E, 0x443, 0x44B, 0x44D, 0x44E, 0x44F: true // а е и о у ы э ю я
        default: false
        }
    }

    /// RV: the part after the first vowel.
    private static func regionStart(_ w: Letters) -> Int {
        var p = 0
        while p < w.count, !isVowel(w[p]) { p += 1 }
        return min(p + 1, w.count)
    }

    /// R2 computed the Snowball way: from RV skip past a consonant, a vowel, then a consonant.
    private static func r2Start(_ w: Letters, from rv: Int) -> Int {
        var p = rv
        for wantVowel in [false, true, false] {
            while p < w.count, isVowel(w[p]) != wantVowel { p += 1 }
            guard p < w.count else { return w.count }
            p += 1
        }
        return p
    }

    /// Length of the longest matching ending whose condition holds, or nil.
    /// As in Snowball's `among`, a failed condition does not fall back to a shorter ending.
    private static func removable(_ set: SuffixSet, _ w: Letters, end: Int, rv: Int) -> Int? {
        guard let m = set.longestMatch(w, end: end, limit: rv) else { return nil }
        if m.afterAOrYa {
            let before = end - m.length - 1
            guard before >= rv, w[before] == letterA || w[before] == letterYa else { return nil }
        }
        return m.length
    }

    // MARK: - Endings

    private static let letterA: UInt16 = 0x430, letterYe: UInt16 = 0x435, letterI: UInt16 = 0x438
    private static let letterEn: UInt16 = 0x43D, letterYa: UInt16 = 0x44F, letterYo: UInt16 = 0x451
    private static let softSign: UInt16 = 0x44C

    private static let perfectiveGerund = SuffixSet(
        afterAOrYa: ["в", "вши", "вшись"],
        plain: ["ив", "ивши", "ившись", "ыв", "ывши", "ывшись"])

    private static let adjective = SuffixSet(plain: [
        "ее", "ие", "ые", "ое", "ими", "ыми", "ей", "ий", "ый", "ой", "ем", "им", "ым", "ом",
        "его", "ого", "ему", "ому", "их", "ых", "ую", "юю", "ая", "яя", "ою", "ею",
    ])

    private static let participle = SuffixSet(
        afterAOrYa: ["ем", "нн", "вш", "ющ", "щ"],
        plain: ["ивш", "ывш", "ующ"])

    private static let reflexive = SuffixSet(plain: ["ся", "сь"])

    private static let verb = SuffixSet(
        afterAOrYa: ["ла", "на", "ете", "йте", "ли", "й", "л", "ем", "н", "ло", "но", "ет", "ют", "ны", "ть", "ешь", "нно"],
        plain: [
            "ила", "ыла", "ена", "ейте", "уйте", "ите", "или", "ыли", "ей", "уй", "ил", "ыл", "им", "ым", "ен",
            "ило", "ыло", "ено", "ят", "ует", "уют", "ит", "ыт", "ены", "ить", "ыть", "ишь", "ую", "ю",
        ])

    private static let noun = SuffixSet(plain: [
        "а", "ев", "ов", "ие", "ье", "е", "иями", "ями", "ами", "еи", "ии", "и", "ией", "ей", "ой", "ий", "й",
        "иям", "ям", "ием", "ем", "ам", "ом", "о", "у", "ах", "иях", "ях", "ы", "ь", "ию", "ью", "ю", "ия", "ья", "я",
    ])

    private static let derivational = SuffixSet(plain: ["ост", "ость"])

    private static let tidyUp = SuffixSet(plain: ["ейш", "ейше", "н", "ь"])
}

/// Endings bucketed by their last letter, longest first, so a lookup touches only a handful of candidates.
/// Stored flat (no nested arrays) to keep reference counting out of the per-word loop.
private struct SuffixSet: Sendable {
    struct Ending: Sendable {
        let start: Int
        let length: Int
        let afterAOrYa: Bool
    }

    private static let bucketCount = 0x40 // а…я plus ё and the rest of U+0430–U+046F
    private var units: [UInt16] = []
    private var endings: [Ending] = []
    private var bucketStart = [Int](repeating: 0, count: bucketCount + 1)

    init(afterAOrYa: [String] = [], plain: [String]) {
        let all = afterAOrYa.map { (Array($0.utf16), true) } + plain.map { (Array($0.utf16), false) }
        let sorted = all.sorted { (Self.bucket($0.0.last!)!, $1.0.count) < (Self.bucket($1.0.last!)!, $0.0.count) }
        for (ending, afterAOrYa) in sorted {
            endings.append(Ending(start: units.count, length: ending.count, afterAOrYa: afterAOrYa))
            units += ending
            bucketStart[Self.bucket(ending.last!)! + 1] = endings.count
        }
        for b in 1...Self.bucketCount { bucketStart[b] = max(bucketStart[b], bucketStart[b - 1]) }
    }

    private static func bucket(_ c: UInt16) -> Int? {
        c >= 0x430 && c < 0x430 + UInt16(bucketCount) ? Int(c - 0x430) : nil
    }

    /// The longest ending that fits entirely between `limit` and `end`.
    func longestMatch(_ w: Letters, end: Int, limit: Int) -> Ending? {
        guard end > limit, let b = Self.bucket(w[end - 1]) else { return nil }
        candidates: for ending in endings[bucketStart[b]..<bucketStart[b + 1]] where ending.length <= end - limit {
            var k = end - ending.length
            for u in ending.start..<ending.start + ending.length {
                guard w[k] == units[u] else { continue candidates }
                k += 1
            }
            return ending
        }
        return nil
    }
}

/// A word whose letters all lie in U+0400–U+04FF, so each is exactly two UTF-8 bytes.
/// Reading letters from UTF-8 directly is about ten times faster than transcoding the word to UTF-16.
private struct Letters {
    private var bytes: [UInt8]

    init?(_ word: String) {
        bytes = Array(word.utf8)
        guard !bytes.isEmpty, bytes.count % 2 == 0 else { return nil }
        for k in stride(from: 0, to: bytes.count, by: 2) {
            guard (0xD0...0xD3).contains(bytes[k]), (0x80...0xBF).contains(bytes[k + 1]) else { return nil }
        }
    }

    var count: Int { bytes.count / 2 }

    /// The letter's code point.
    subscript(index: Int) -> UInt16 {
        get { UInt16(bytes[2 * index] & 0x1F) << 6 | UInt16(bytes[2 * index + 1] & 0x3F) }
        set {
            bytes[2 * index] = 0xC0 | UInt8(newValue >> 6)
            bytes[2 * index + 1] = 0x80 | UInt8(newValue & 0x3F)
        }
    }

    func prefix(_ letters: Int) -> String {
        String(decoding: bytes[..<(2 * letters)], as: UTF8.self)
    }
}
