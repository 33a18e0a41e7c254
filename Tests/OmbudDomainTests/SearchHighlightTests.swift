import OmbudDomain
import Testing

@Suite struct SearchHighlightTests {
    private func marked(_ segments: [HighlightSegment]) -> String {
        segments.map { $0.hit ? "[\($0.text)]" : $0.text }.joined()
    }

    @Test func inflectedFormsAndYoAreMarkedAndTheTextIsKept() {
        let text = "Во ДВОРАХ не убрана Ёлка; в подъездах грязно."
        let segments = SearchHighlight.segments(of: text, query: "елка подъезд двор")
        #expect(marked(segments) == "Во [ДВОРАХ] не убрана [Ёлка]; в [подъездах] грязно.")
        #expect(segments.map(\.text).joined() == text)
    }

    @Test func aQueryWithNoWordsMarksNothing() {
        #expect(SearchHighlight.segments(of: "текст", query: " , ") == [HighlightSegment("текст", hit: false)])
        #expect(SearchHighlight.segments(of: "", query: "текст").isEmpty)
    }

    @Test func wordsAreWholeNotPartsOfLongerOnes() {
        // «мусор» is the prefix of «мусоропровод»'s token, as in the index; «ус» is not a word start.
        #expect(marked(SearchHighlight.segments(of: "мусоропровод и усы", query: "мусор")) == "[мусоропровод] и усы")
        #expect(marked(SearchHighlight.segments(of: "мусоропровод", query: "ус")) == "мусоропровод")
    }

    @Test func persianTextWithPersianDigitsIsMatched() {
        #expect(marked(SearchHighlight.segments(of: "خیابان ۱۲ آسفالت", query: "12")) == "خیابان [۱۲] آسفالت")
    }

    @Test func aLongTextIsCutAroundTheFirstMatch() {
        let text = String(repeating: "слово ", count: 100) + "протечка крыши " + String(repeating: "ещё ", count: 100)
        let segments = SearchHighlight.segments(of: text, query: "протечка", excerpt: 90)
        let shown = marked(segments)
        #expect(shown.hasPrefix("…") && shown.hasSuffix("…"))
        #expect(shown.contains("[протечка]"))
        #expect(shown.count <= 90 + 4)
    }
}
