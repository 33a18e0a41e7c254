import Testing
@testable import OmbudDomain

@Suite struct AddressKeyTests {
    @Test func oneBuildingManySpellings() {
        let spellings = ["Малая Балканская улица, дом 60", "ул. Малая Балканская, д. 60", "Малая Балканская ул 60", "дом 60, улица Малая Балканская",
                         "г.Санкт-Петербург, Малая Балканская улица, дом 60", "Санкт-Петербург, ул Малая Балканская д60, кв. 12", "МАЛАЯ БАЛКАНСКАЯ, 60"]
        let keys = Set(spellings.map { AddressKey($0)?.description })
        #expect(keys == ["балканская малая|60"], "\(keys)")
    }

    @Test func buildingStructureAndLetterAreKeptApart() {
        #expect(AddressKey("Мебельная улица, дом 47, корпус 1, литера А")?.description == "мебельная|47к1ла")
        #expect(AddressKey("ул. Мебельная, д. 47 к. 1 лит. А")?.description == "мебельная|47к1ла")
        #expect(AddressKey("Мебельная ул., 47к1")?.description == "мебельная|47к1")
        #expect(AddressKey("Мебельная 47а")?.house == "47ла")
        #expect(AddressKey("Мебельная 47")?.house != AddressKey("Мебельная 49")?.house)
        #expect(AddressKey("пр-т Невский, 1")?.description == AddressKey("Невский проспект, д. 1")?.description)
    }

    @Test func streetsWithNumbersAndNoStreetAtAll() {
        #expect(AddressKey("2-я Советская улица, дом 7")?.description == "2 советская я|7")
        #expect(AddressKey("Санкт-Петербург") == nil)
        #expect(AddressKey("д. 5") == nil)
        #expect(AddressKey("Невский проспект")?.house == "")
        #expect(AddressKey("Невский проспект")?.streetKey == AddressKey("Невский пр., 28")?.streetKey)
    }
}
