/// Words of personal data in an appeal's index: the applicant's name and the exact address. They are indexed with a
/// mark before them, so that a search finds an appeal by them only for a reader who may see personal data; anyone
/// else searching for a person's name finds nothing by it (59-FZ art. 6, 152-FZ).
public enum PersonalSearch {
    /// Query words are letters and digits after `TextNormalizer.words`, lowercased, so a reader could aim at marked
    /// words only by typing the mark: for readers without the permission such words, and the mark's own prefixes
    /// (which a prefix search would stretch onto it), are dropped.
    public static let mark = "qxq"

    /// The indexed document: the open words as they are, the personal ones marked — also where the open text repeats
    /// them (an applicant introducing themselves in their appeal).
    public static func document(open: [String?], personal: [String?]) -> String {
        let personalWords = personal.compactMap { $0 }.flatMap(TextNormalizer.searchTokens)
        let hidden = Set(personalWords.filter { $0.count >= 2 && !$0.allSatisfy(\.isNumber) })
        let plain = open.compactMap { $0 }.flatMap(TextNormalizer.searchTokens).map { hidden.contains($0) ? mark + $0 : $0 }
        return (plain + personalWords.map { mark + $0 }).joined(separator: " ")
    }

    /// Each query word with the forms it may match: itself, and its marked form for a reader with the permission.
    public static func terms(_ query: String, personal: Bool, limit: Int = 12) -> [[String]] {
        TextNormalizer.searchTokens(query)
            .filter { personal || !($0.hasPrefix(mark) || mark.hasPrefix($0)) }
            .prefix(limit)
            .map { personal ? [$0, mark + $0] : [$0] }
    }
}
