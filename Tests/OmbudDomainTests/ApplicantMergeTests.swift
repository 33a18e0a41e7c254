import OmbudDomain
import Testing

@Suite struct ApplicantMergeTests {
    @Test func theKeptCardTakesWhatItLacksAndKeepsWhatItSays() throws {
        let keep = ApplicantMerge.Card(kind: "person", surname: "Иванов", name: "Иван", phones: ["+7 921 000-00-01"],
                                       postalAddress: "Невский, 1", socialLinks: ["https://vk.com/id1"])
        let absorb = ApplicantMerge.Card(kind: "person", surname: "Иванофф", name: "Иван", patronymic: "Петрович",
                                         phones: ["8 (921) 000-00-01", "+7 921 000-00-02"], emails: ["IVAN@example.org"],
                                         postalAddress: "Другой адрес", socialStatus: "пенсионер",
                                         socialLinks: ["https://vk.com/id1", "https://t.me/ivan"], publicityConsent: true)
        let merged = try ApplicantMerge.merged(keep: keep, absorb: absorb)
        #expect(merged.surname == "Иванов")
        #expect(merged.patronymic == "Петрович")
        #expect(merged.postalAddress == "Невский, 1")
        #expect(merged.socialStatus == "пенсионер")
        // The same phone written two ways is one phone.
        #expect(merged.phones == ["+7 921 000-00-01", "+7 921 000-00-02"])
        #expect(merged.emails == ["IVAN@example.org"])
        #expect(merged.socialLinks == ["https://vk.com/id1", "https://t.me/ivan"])
        // Consent given on the other card is not carried over.
        #expect(merged.publicityConsent == false)
    }

    @Test func aPersonAndAnOrganisationAreNeverMerged() {
        #expect(throws: ApplicantMerge.Refusal.differentKinds) {
            try ApplicantMerge.merged(keep: .init(kind: "person", surname: "Иванов"), absorb: .init(kind: "organisation", organisationName: "ТСЖ"))
        }
    }
}
