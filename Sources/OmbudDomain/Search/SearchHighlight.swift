/// A piece of a text shown in search results: either plain, or a word the query found.
public struct HighlightSegment: Equatable, Sendable {
    public let text: String
    public let hit: Bool

    public init(_ text: String, hit: Bool) {
        self.text = text
        self.hit = hit
    }
}

/// Which words of a text a full-text query matched, by the index's own rule: a word matches when its search token
/// (folded, stemmed) starts with one of the query's tokens. So «подъезд» lights up «ПОДЪЕЗДАХ» and «ёлка» lights «елки».
public enum SearchHighlight {
    /// The text cut into plain and matched pieces, in order; joined they give the text back unchanged. A long text is
    /// cut to an excerpt of about `excerpt` characters around the first match (with "…" at a cut end).
    public static func segments(of text: String, query: String, excerpt: Int? = nil) -> [HighlightSegment] {
        let tokens = Set(TextNormalizer.searchTokens(query))
        guard !tokens.isEmpty, !text.isEmpty else { return text.isEmpty ? [] : [HighlightSegment(cut(text, excerpt), hit: false)] }
        var words: [(range: Range<String.Index>, hit: Bool)] = []
        var start: String.Index?
        var index = text.startIndex
        func close(at end: String.Index) {
            guard let begin = start else { return }
            let word = String(text[begin..<end])
            let hit = TextNormalizer.searchTokens(word).contains { token in tokens.contains { token.hasPrefix($0) } }
            words.append((begin..<end, hit))
            start = nil
        }
        for scalarIndex in text.unicodeScalars.indices {
            index = scalarIndex
            switch TextNormalizer.wordRole(text.unicodeScalars[scalarIndex]) {
            case .part: if start == nil { start = index }
            case .continuation: break
            case .separator: close(at: index)
            }
        }
        close(at: text.endIndex)

        var window = text.startIndex..<text.endIndex
        var prefix = "", suffix = ""
        if let excerpt, text.count > excerpt {
            let anchor = words.first(where: \.hit)?.range.lowerBound ?? text.startIndex
            let lower = text.index(anchor, offsetBy: -(excerpt / 3), limitedBy: text.startIndex) ?? text.startIndex
            let upper = text.index(lower, offsetBy: excerpt, limitedBy: text.endIndex) ?? text.endIndex
            window = lower..<upper
            if lower > text.startIndex { prefix = "…" }
            if upper < text.endIndex { suffix = "…" }
        }
        var segments: [HighlightSegment] = []
        func add(_ piece: Substring, hit: Bool) {
            guard !piece.isEmpty else { return }
            if let last = segments.last, last.hit == hit {
                segments[segments.count - 1] = HighlightSegment(last.text + piece, hit: hit)
            } else {
                segments.append(HighlightSegment(String(piece), hit: hit))
            }
        }
        add(Substring(prefix), hit: false)
        var position = window.lowerBound
        for word in words where word.hit && word.range.overlaps(window) {
            let lower = max(word.range.lowerBound, window.lowerBound), upper = min(word.range.upperBound, window.upperBound)
            add(text[position..<lower], hit: false)
            add(text[lower..<upper], hit: true)
            position = upper
        }
        add(text[position..<window.upperBound], hit: false)
        add(Substring(suffix), hit: false)
        return segments
    }

    private static func cut(_ text: String, _ excerpt: Int?) -> String {
        guard let excerpt, text.count > excerpt else { return text }
        return String(text.prefix(excerpt)) + "…"
    }
}
