import Testing
@testable import OmbudDomain

struct RussianStemmerTests {
    /// Pairs from the official Snowball vocabulary (snowball-data russian voc/output).
    static let reference: [(String, String)] = [
        ("вагон", "вагон"), ("вагона", "вагон"), ("вагоне", "вагон"), ("вагонов", "вагон"),
        ("вагоном", "вагон"), ("вагоны", "вагон"), ("важная", "важн"), ("важнее", "важн"),
        ("важнейшие", "важн"), ("важнейшими", "важн"), ("важность", "важност"), ("важности", "важност"),
        ("важностью", "важност"), ("абонемента", "абонемент"), ("абонировался", "абонирова"),
        ("абонируйся", "абонир"), ("абонируюсь", "абонир"), ("авдотье", "авдот"), ("авдотьей", "авдот"),
        ("авенантненькая", "авенантненьк"), ("авиация", "авиац"), ("авось", "ав"), ("аи", "а"), ("ай", "а"),
        ("аккуратнее", "аккуратн"), ("алексеевыми", "алексеев"), ("алексей", "алекс"), ("аллея", "алле"),
        ("алчущим", "алчущ"), ("анализирующей", "анализир"), ("англичан", "англича"),
        ("андреев", "андре"), ("апельсинничаешь", "апельсиннича"), ("аплодирует", "аплодир"),
        ("аплодируя", "аплодиру"), ("арестовать", "арестова"), ("арестовывают", "арестовыва"),
        ("арестуйте", "арест"), ("аристократическою", "аристократическ"), ("антверпен", "антверп"),
    ]

    @Test(arguments: reference)
    func matchesSnowballReference(word: String, stem: String) {
        #expect(RussianStemmer.stem(word) == stem)
    }

    @Test(arguments: [
        ("водители", "водител"), ("подъезд", "подъезд"), ("подъезда", "подъезд"), ("подъезде", "подъезд"),
        ("освещение", "освещен"), ("освещения", "освещен"), ("двора", "двор"), ("дворе", "двор"),
    ])
    func stemsComplaintVocabulary(word: String, stem: String) {
        #expect(RussianStemmer.stem(word) == stem)
    }

    @Test func yoFormsOfElkaShareOneKey() {
        // setup
        let key = RussianStemmer.stem("елка")
        // act
        let stems = ["ёлки", "ёлкой", "ёлку", "елке"].map(RussianStemmer.stem)
        // check
        #expect(key == "елк")
        #expect(stems.allSatisfy { $0 == key })
    }

    @Test func genitivePluralWithFleetingVowelIsNotConflated() {
        // Snowball strips endings only; the inserted "о" of "елок" is beyond it, so the faithful stem differs.
        #expect(RussianStemmer.stem("елок") == "елок")
    }

    @Test func nonCyrillicWordsAreUntouched() {
        #expect(RussianStemmer.stem("running") == "running")
        #expect(RussianStemmer.stem("кв2") == "кв2")
        #expect(RussianStemmer.stem("1234") == "1234")
        #expect(RussianStemmer.stem("") == "")
    }

    @Test func wordsWithoutVowelsKeepTheirShape() {
        #expect(RussianStemmer.stem("мкд") == "мкд")
        #expect(RussianStemmer.stem("в") == "в")
    }
}
