import Testing
@testable import OmbudDomain

struct TextNormalizerTests {
    @Test func yoAndCaseFold() {
        #expect(TextNormalizer.normalize("ЁЛКА") == TextNormalizer.normalize("елка"))
        #expect(TextNormalizer.normalize("ЁЛКА") == "елка")
    }

    @Test func decomposedYoFoldsLikeComposed() {
        #expect(TextNormalizer.normalize("е\u{308}лка") == "елка")
    }

    @Test func persianAndArabicDigitsBecomeAscii() {
        #expect(TextNormalizer.normalize("۱۲۳") == "123")
        #expect(TextNormalizer.normalize("٤٥٦") == "456")
    }

    @Test func arabicLetterFormsBecomePersian() {
        #expect(TextNormalizer.normalize("كيك") == "کیک")
        #expect(TextNormalizer.normalize("على") == "علی")
    }

    @Test func diacriticsTatweelAndZeroWidthAreRemoved() {
        #expect(TextNormalizer.normalize("مُحَمَّد") == "محمد")
        #expect(TextNormalizer.normalize("کـــتاب") == "کتاب")
        #expect(TextNormalizer.normalize("ab\u{200B}c\u{FEFF}") == "abc")
        #expect(TextNormalizer.normalize("می\u{200C}خواهم") == "می خواهم")
    }

    @Test func whitespaceIsCollapsedAndTrimmed() {
        #expect(TextNormalizer.normalize("  Улица\t\n Ленина \u{00A0} 5  ") == "улица ленина 5")
        #expect(TextNormalizer.normalize(" \n ") == "")
    }

    @Test func wordsSplitOnPunctuationAndHyphens() {
        // act
        let words = TextNormalizer.words("Санкт-Петербург, ул. Ленина, д.5/2 — кв.12; e-mail: A_B")
        // check
        #expect(words == ["санкт", "петербург", "ул", "ленина", "д", "5", "2", "кв", "12", "e", "mail", "a", "b"])
    }

    @Test func wordsKeepPersianWordsWhole() {
        #expect(TextNormalizer.words("تهران، خیابان ۱۲") == ["تهران", "خیابان", "12"])
    }

    @Test func searchTokensStemOnlyCyrillic() {
        // act
        let tokens = TextNormalizer.searchTokens("Освещение подъездов, Wi-Fi не работает ۱۲")
        // check
        #expect(tokens == ["освещен", "подъезд", "wi", "fi", "не", "работа", "12"])
    }

    @Test func searchTokensMatchAcrossYoAndCase() {
        #expect(TextNormalizer.searchTokens("ЁЛКИ") == TextNormalizer.searchTokens("елка"))
    }

    @Test func searchDocumentSkipsMissingParts() {
        #expect(TextNormalizer.searchDocument(["Двора", nil, "  ", "вагоны важная"]) == "двор вагон важн")
        #expect(TextNormalizer.searchDocument([nil]) == "")
    }

    @Test(arguments: ["8 (921) 555-12-34", "+7 921 555 12 34", "9215551234", "89215551234", "۸۹۲۱۵۵۵۱۲۳۴"])
    func russianPhonesShareOneKey(phone: String) {
        #expect(TextNormalizer.phoneKey(phone) == "79215551234")
    }

    @Test func otherPhonesKeepTheirDigits() {
        #expect(TextNormalizer.phoneKey("+98 21 1234 5678") == "982112345678")
        #expect(TextNormalizer.phoneKey("12-34-5") == "12345")
        #expect(TextNormalizer.phoneKey("1234") == nil)
        #expect(TextNormalizer.phoneKey("нет телефона") == nil)
    }

    @Test func emailKeyLowercasesAndTrims() {
        #expect(TextNormalizer.emailKey("  Ivan.Petrov@Mail.RU \n") == "ivan.petrov@mail.ru")
    }

    @Test(arguments: ["", "ivan", "ivan@mail", "@mail.ru", "ivan@", "a@b@c.ru", "iv an@mail.ru", "ivan@ma il.ru"])
    func emailKeyRejectsMalformed(email: String) {
        #expect(TextNormalizer.emailKey(email) == nil)
    }
}

@Test func persianAndArabicDigitsBecomeLatin() {
    #expect(TextNormalizer.latinDigits("۲۰۲۶-۰۰۰۱۲۳ / ٠٩٢١") == "2026-000123 / 0921")
}
