import Testing
@testable import OmbudDomain

@Suite struct PersonalDataRedactionTests {
    let redact = PersonalDataRedaction(names: ["Петров", "Иван", "Сергеевич"], phrases: ["ул. Садовая, д. 5, кв. 7"], hidden: "[скрыто]")

    @Test func theApplicantsNameInAnyFormIsHidden() {
        #expect(redact("Я, Петров Иван Сергеевич, прошу…") == "Я, [скрыто] [скрыто] [скрыто], прошу…")
        #expect(redact("Уважаемый Иван Сергеевич! Ответ гражданину Петрову") == "Уважаемый [скрыто] [скрыто]! Ответ гражданину [скрыто]")
        // Other words stay, even those that contain a name.
        #expect(redact("Ивановка, улица Петровская") == "Ивановка, улица Петровская")
    }

    @Test func phonesEmailsAndTheAddressAreHidden() {
        #expect(redact("звоните +7 (921) 555-12-34 или 555-12-34, пишите ivan.petrov@mail.ru") == "звоните [скрыто] или [скрыто], пишите [скрыто]")
        #expect(redact("живу: УЛ. САДОВАЯ, Д. 5, КВ. 7, второй год") == "живу: [скрыто], второй год")
        // Dates and amounts are no phones.
        #expect(redact("с 2026-11-20 по 20.12.2026 выплачено 15 000 рублей") == "с 2026-11-20 по 20.12.2026 выплачено 15 000 рублей")
    }

    @Test func nothingKnownLeavesOnlyPatterns() {
        let plain = PersonalDataRedaction(names: [nil], phrases: [], hidden: "[hidden]")
        #expect(plain("Call 8 921 555 12 34") == "Call [hidden]")
        #expect(plain("Во дворе не горит фонарь") == "Во дворе не горит фонарь")
    }
}
