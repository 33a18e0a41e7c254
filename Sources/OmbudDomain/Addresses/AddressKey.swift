import Foundation

/// One key for the many spellings of an address: «Малая Балканская улица, дом 60», «ул. Малая Балканская, д. 60» and
/// «Малая Балканская ул 60» are the same building. The street's name words are kept in any order; its type (улица,
/// проспект…), the city, the postcode and the flat are left out; the house is its number with building, structure
/// and letter («д. 60 к. 2 лит. А» = «60к2А»).
public struct AddressKey: Sendable, Hashable, CustomStringConvertible {
    /// The street's name words, sorted.
    public let street: String
    /// The house: number, then `к` building, `с` structure, `л` letter; empty when none was given.
    public let house: String

    public var description: String { house.isEmpty ? street : "\(street)|\(house)" }

    public init?(_ text: String) {
        var name: [String] = []
        var number: String?, building: String?, structure: String?, letter: String?
        var expect: Part?
        var prepared = text.lowercased()
        for (from, to) in Self.compounds { prepared = prepared.replacingOccurrences(of: from, with: to) }
        for word in TextNormalizer.words(prepared) {
            // A marker glued to its number: «д60», «к2», «кв5».
            var token = word
            if let (marker, rest) = Self.glued(word) { expect = marker; token = rest }
            if Self.locality.contains(token) { continue }
            if Self.streetTypes.contains(token) { expect = nil; continue }
            if let marker = Self.markers[token] { expect = marker; continue }
            let parts = Self.split(token)
            if let digits = parts.digits {
                switch expect {
                case .flat: break
                case .building: building = digits + parts.rest
                case .structure: structure = digits + parts.rest
                case .letter: letter = token
                case .house, nil:
                    if expect == nil && number == nil && name.isEmpty { name.append(token) }  // «2-я Советская»
                    else if number == nil { number = digits; Self.compact(parts.rest, &building, &letter) }
                    else if building == nil { building = digits + parts.rest }
                }
                expect = nil
                continue
            }
            switch expect {
            case .letter?: letter = token; expect = nil; continue
            case .flat?: expect = nil; continue
            default: break
            }
            // A single letter after the house number is its letter («60 а»); a word is the street's, before or after the house.
            if number != nil, token.count == 1 { if letter == nil { letter = token }; continue }
            name.append(token)
        }
        guard !name.isEmpty else { return nil }
        street = name.sorted().joined(separator: " ")
        var house = number ?? ""
        if number != nil {
            if let building { house += "к\(building)" }
            if let structure { house += "с\(structure)" }
            if let letter { house += "л\(letter)" }
        }
        self.house = house
    }

    /// The street alone, for what is known of a street rather than a building (its district).
    public var streetKey: String { street }

    // «60к2» → house 60, building 2; «60а» → letter а.
    private static func compact(_ rest: String, _ building: inout String?, _ letter: inout String?) {
        guard !rest.isEmpty else { return }
        if rest.hasPrefix("к"), rest.count > 1, rest.dropFirst().allSatisfy(\.isNumber) { building = String(rest.dropFirst()) }
        else if rest.count == 1 { letter = rest }
    }

    private static func glued(_ word: String) -> (Part, String)? {
        for (prefix, part) in [("кв", Part.flat), ("д", .house), ("к", .building)] where word.hasPrefix(prefix) {
            let rest = word.dropFirst(prefix.count)
            if let first = rest.first, first.isASCII, first.isNumber { return (part, String(rest)) }
        }
        return nil
    }

    private static func split(_ token: String) -> (digits: String?, rest: String) {
        let digits = token.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty else { return (nil, token) }
        return (String(digits), String(token.dropFirst(digits.count)))
    }

    /// What the number after a marker is: the flat's or office's number is not part of the building.
    private enum Part { case house, building, structure, letter, flat }

    private static let compounds = [("пр-т", " пр "), ("пр-кт", " пр "), ("б-р", " бульвар "), ("пр-д", " проезд "), ("наб.", " наб "),
                                    ("санкт-петербург", " спб "), ("с.-петербург", " спб ")]
    private static let locality: Set<String> = ["россия", "рф", "г", "гор", "город", "спб", "санкт", "петербург", "москва", "мск",
                                                "ленинградская", "обл", "область", "ло", "р", "н", "район", "мо", "вн", "тер"]
    private static let streetTypes: Set<String> = ["ул", "улица", "пр", "просп", "проспект", "пер", "переулок", "наб", "набережная",
                                                   "ш", "шоссе", "пл", "площадь", "бульвар", "бул", "проезд", "аллея", "ал", "линия", "лин",
                                                   "тупик", "туп", "дорога", "дор", "канал", "кан", "остров", "о", "мкр", "микрорайон", "пос", "поселок"]
    private static let markers: [String: Part] = [
        "д": .house, "дом": .house, "к": .building, "корп": .building, "корпус": .building, "стр": .structure, "строение": .structure,
        "с": .structure, "лит": .letter, "литера": .letter, "литер": .letter, "кв": .flat, "квартира": .flat, "оф": .flat,
        "офис": .flat, "пом": .flat, "помещение": .flat, "комн": .flat, "комната": .flat,
    ]
}
