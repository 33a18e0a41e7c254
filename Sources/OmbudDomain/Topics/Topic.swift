/// An entry of the thematic classifier: the official one (levels 1–5) or an organisation's own.
public struct Topic: Sendable, Equatable, Codable {
    public let code: String
    public let name: String
    public let level: Int
    public let parentCode: String?
    public let section: String
    /// Only questions (levels 4–5) and local topics are put on appeals.
    public let assignable: Bool
    public let isLocal: Bool

    public init(code: String, name: String, level: Int, parentCode: String?, section: String, assignable: Bool, isLocal: Bool = false) {
        self.code = code
        self.name = name
        self.level = level
        self.parentCode = parentCode
        self.section = section
        self.assignable = assignable
        self.isLocal = isLocal
    }
}

public enum TopicError: Error, Equatable, Sendable {
    case missingColumn(String)
    case invalidRow(line: Int, reason: String)
    case duplicateCode(String)
    case unknownParent(code: String, parent: String)
    case invalidCode(String)
    case emptyName
}

public enum Classifier {
    /// Reads `classifier.csv` (`code,code4,level,name,parent_code,section,assignable`) and checks the hierarchy.
    public static func parse(csv text: String) throws -> [Topic] {
        let records = try CSVReader.records(text)
        var topics: [Topic] = []
        var codes = Set<String>()
        for (index, record) in records.enumerated() {
            let line = index + 2
            for column in ["code", "level", "name", "parent_code", "section", "assignable"] where record[column] == nil {
                throw TopicError.missingColumn(column)
            }
            let code = record["code"]!.trimmingCharacters(in: .whitespaces)
            guard isOfficialCode(code) else { throw TopicError.invalidRow(line: line, reason: "invalid code \(code)") }
            guard let level = Int(record["level"]!), level == code.split(separator: ".").count else {
                throw TopicError.invalidRow(line: line, reason: "level does not match code \(code)")
            }
            let name = record["name"]!.trimmed()
            guard !name.isEmpty else { throw TopicError.invalidRow(line: line, reason: "empty name") }
            let parent = record["parent_code"]!.isEmpty ? nil : record["parent_code"]
            if level > 1 {
                guard let parent, codes.contains(parent) else {
                    throw TopicError.unknownParent(code: code, parent: parent ?? "")
                }
            }
            guard codes.insert(code).inserted else { throw TopicError.duplicateCode(code) }
            topics.append(Topic(code: code, name: name, level: level, parentCode: parent, section: record["section"]!,
                                assignable: level >= 4))
        }
        return topics
    }

    /// Official codes are 1–5 groups of four digits joined by dots.
    public static func isOfficialCode(_ code: String) -> Bool {
        let groups = code.split(separator: ".", omittingEmptySubsequences: false)
        return (1...5).contains(groups.count) && groups.allSatisfy { $0.count == 4 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// An organisation's own topic: a code of letters, digits, dots and dashes that cannot be mistaken for an official one.
    public static func localTopic(code: String, name: String, parent: Topic?) throws(TopicError) -> Topic {
        let code = code.trimmingCharacters(in: .whitespaces)
        let allowed = code.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "." || $0 == "-" }
        guard !code.isEmpty, code.count <= 40, allowed, !isOfficialCode(code) else { throw .invalidCode(code) }
        let name = name.trimmed()
        guard !name.isEmpty else { throw .emptyName }
        return Topic(code: code, name: name, level: (parent?.level ?? 3) + 1, parentCode: parent?.code,
                     section: parent?.section ?? code, assignable: true, isLocal: true)
    }
}

import Foundation
