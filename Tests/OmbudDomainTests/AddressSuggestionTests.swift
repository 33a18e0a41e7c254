import OmbudDomain
import Testing

@Suite struct AddressSuggestionTests {
    @Test func theStreetIsTheLongestWordBeforeTheHouse() {
        #expect(ApplicantMatching.street("ул. Мира, д. 5") == "мира")
        #expect(ApplicantMatching.street("Невский пр., 28") == "невский")
        #expect(ApplicantMatching.street("д. 5") == nil)
    }

    @Test func theMostFrequentDistrictIsSuggested() {
        #expect(ApplicantMatching.likelyDistrict(["Центральный", "Адмиралтейский", "Центральный"]) == "Центральный")
        #expect(ApplicantMatching.likelyDistrict(["Пушкинский", "Адмиралтейский"]) == "Адмиралтейский")
        #expect(ApplicantMatching.likelyDistrict([]) == nil)
    }
}
