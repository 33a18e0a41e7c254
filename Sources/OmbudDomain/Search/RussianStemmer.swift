/// The Snowball Russian stemmer (https://snowballstem.org/algorithms/russian/stemmer.html),
/// transcribed from the reference `russian.sbl`.
///
/// Runs on every indexed word, so it works on UTF-16 code units (all Russian letters are in the BMP)
/// and only ever moves the end of the word, never slicing strings.
public enum RussianStemmer {
    public static func stem(_ word: String) -> String {
        var w = Array(word.utf16)
        guard isCyrillic(w) else { return word }
        var hadYo = false
        for k in w.indices where w[k] == letterYo {
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
            switch n.units.last {
            case softSign: end -= 1
            case letterEn: undoubleN()
            default: // superlative
                end -= n.length
                undoubleN()
            }
        }

        return end == w.count && !hadYo ? word : String(decoding: w[..<end], as: UTF16.self)
    }

    // MARK: - Regions

    private static func isVowel(_ c: UInt16) -> Bool {
        switch c {
        case 0x430, 0x435, 0x438, 0x43E, 0x443, 0x44B, 0x44D, 0x44E, 0x44F: true // а е и о у ы э ю я
        default: false
        }
    }

    /// Stemming only makes sense for Cyrillic words; mixed tokens such as model numbers are kept verbatim.
    private static func isCyrillic(_ w: [UInt16]) -> Bool {
        !w.isEmpty && w.allSatisfy { (0x400...0x4FF).contains($0) }
    }

    /// RV: the part after the first vowel.
    private static func regionStart(_ w: [UInt16]) -> Int {
        (w.firstIndex(where: isVowel) ?? w.count - 1) + 1
    }

    /// R2 computed the Snowball way: from RV skip past a consonant, a vowel, then a consonant.
    private static func r2Start(_ w: [UInt16], from rv: Int) -> Int {
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
    private static func removable(_ set: SuffixSet, _ w: [UInt16], end: Int, rv: Int) -> Int? {
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
private struct SuffixSet: Sendable {
    struct Ending: Sendable {
        let units: [UInt16]
        let afterAOrYa: Bool
        var length: Int { units.count }
    }

    private var buckets = [[Ending]](repeating: [], count: 64)

    init(afterAOrYa: [String] = [], plain: [String]) {
        let all = afterAOrYa.map { Ending(units: Array($0.utf16), afterAOrYa: true) }
            + plain.map { Ending(units: Array($0.utf16), afterAOrYa: false) }
        for ending in all.sorted(by: { $0.length > $1.length }) {
            buckets[Self.bucket(ending.units.last!)!].append(ending)
        }
    }

    private static func bucket(_ c: UInt16) -> Int? {
        c >= 0x430 && c < 0x470 ? Int(c - 0x430) : nil
    }

    /// The longest ending that fits entirely between `limit` and `end`.
    func longestMatch(_ w: [UInt16], end: Int, limit: Int) -> Ending? {
        guard end > limit, let b = Self.bucket(w[end - 1]) else { return nil }
        candidates: for ending in buckets[b] where ending.length <= end - limit {
            var k = end - ending.length
            for u in ending.units {
                guard w[k] == u else { continue candidates }
                k += 1
            }
            return ending
        }
        return nil
    }
}
