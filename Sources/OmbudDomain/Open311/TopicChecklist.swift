import Foundation

/// The questions an operator or a 311 app asks about one topic ("how deep is the pothole?"): the 137 centres'
/// per-subject checklists, and in Open311 the attributes of the topic's service.
public struct ChecklistQuestion: Sendable, Equatable, Codable {
    public enum Datatype: String, Sendable, Codable, CaseIterable { case string, number, datetime, text, singlevaluelist, multivaluelist }

    public struct Value: Sendable, Equatable, Codable {
        public var key: String
        public var name: String
        public init(key: String, name: String) { self.key = key; self.name = name }
    }

    public var code: String
    public var datatype: Datatype
    public var required: Bool
    public var text: String
    public var values: [Value]
    /// The channels the question is asked on (`phone`, `web`, `open311`…); empty: on every channel.
    public var channels: [String]

    public init(code: String, datatype: Datatype, required: Bool, text: String, values: [Value] = [], channels: [String] = []) {
        self.code = code
        self.datatype = datatype
        self.required = required
        self.text = text
        self.values = values
        self.channels = channels
    }

    private enum CodingKeys: String, CodingKey { case code, datatype, required, text, values, channels }

    /// Questions stored before channels existed read as asked everywhere.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = try c.decode(String.self, forKey: .code)
        datatype = try c.decode(Datatype.self, forKey: .datatype)
        required = try c.decode(Bool.self, forKey: .required)
        text = try c.decode(String.self, forKey: .text)
        values = try c.decodeIfPresent([Value].self, forKey: .values) ?? []
        channels = try c.decodeIfPresent([String].self, forKey: .channels) ?? []
    }

    public func asked(on channel: String) -> Bool { channels.isEmpty || channels.contains(channel) }

    var isList: Bool { datatype == .singlevaluelist || datatype == .multivaluelist }
}

/// A topic's checklist as administrators write it, one question per line:
/// `code | datatype | required or optional | question | key=name; key=name` (the values only for lists), and at the
/// end, for a question asked only on some channels, `| channels: phone, visit`.
public enum TopicChecklist {
    public static let maxQuestions = 30

    public static func parse(_ source: String) throws(ValidationError) -> [ChecklistQuestion] {
        var questions: [ChecklistQuestion] = []
        for (n, line) in source.split(whereSeparator: \.isNewline).enumerated() {
            let raw = line.trimmed()
            guard !raw.isEmpty, !raw.hasPrefix("#") else { continue }
            let field = "checklist line \(n + 1)"
            var parts = raw.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmed() }
            var channels: [String] = []
            if parts.count > 4, let last = parts.last, last.lowercased().hasPrefix("channels:") {
                channels = last.dropFirst("channels:".count).split(separator: ",").map { $0.trimmed() }.filter { !$0.isEmpty }
                for channel in channels where AppealChannel(rawValue: channel) == nil {
                    throw ValidationError(field: field, reason: "no channel \(channel): one of " + AppealChannel.allCases.map(\.rawValue).joined(separator: ", "))
                }
                guard !channels.isEmpty else { throw ValidationError(field: field, reason: "name the channels after channels:") }
                parts.removeLast()
            }
            guard parts.count == 4 || parts.count == 5 else {
                throw ValidationError(field: field, reason: "needs code | datatype | required or optional | question [| key=name; …] [| channels: …]")
            }
            let code = parts[0]
            guard !code.isEmpty, code.count <= 50, code.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_".unicodeScalars.contains($0)) })
            else { throw ValidationError(field: field, reason: "the code \(code) must be latin letters, digits, - or _") }
            guard !questions.contains(where: { $0.code == code }) else { throw ValidationError(field: field, reason: "the code \(code) repeats") }
            guard let datatype = ChecklistQuestion.Datatype(rawValue: parts[1].lowercased()) else {
                throw ValidationError(field: field, reason: "the datatype must be one of " + ChecklistQuestion.Datatype.allCases.map(\.rawValue).joined(separator: ", "))
            }
            guard ["required", "optional"].contains(parts[2].lowercased()) else { throw ValidationError(field: field, reason: "say required or optional") }
            guard !parts[3].isEmpty, parts[3].count <= 300 else { throw ValidationError(field: field, reason: "the question is empty or longer than 300 characters") }
            var question = ChecklistQuestion(code: code, datatype: datatype, required: parts[2].lowercased() == "required", text: parts[3],
                                             channels: channels)
            if parts.count == 5 {
                for pair in parts[4].split(separator: ";").map({ $0.trimmed() }) where !pair.isEmpty {
                    let kv = pair.split(separator: "=", maxSplits: 1).map { $0.trimmed() }
                    guard kv.count == 2, !kv[0].isEmpty, !kv[1].isEmpty else { throw ValidationError(field: field, reason: "a value must read key=name") }
                    question.values.append(.init(key: kv[0], name: kv[1]))
                }
            }
            guard question.isList == !question.values.isEmpty else {
                throw ValidationError(field: field, reason: question.isList ? "a list needs its values" : "only lists have values")
            }
            questions.append(question)
        }
        guard questions.count <= maxQuestions else { throw ValidationError(field: "checklist", reason: "at most \(maxQuestions) questions") }
        return questions
    }

    /// The lines `parse` reads back to the same questions.
    public static func source(_ questions: [ChecklistQuestion]) -> String {
        questions.map { q in
            var line = "\(q.code) | \(q.datatype.rawValue) | \(q.required ? "required" : "optional") | \(q.text)"
            if !q.values.isEmpty { line += " | " + q.values.map { "\($0.key)=\($0.name)" }.joined(separator: "; ") }
            if !q.channels.isEmpty { line += " | channels: " + q.channels.joined(separator: ", ") }
            return line
        }.joined(separator: "\n")
    }

    /// A refused answer: the question's code and why.
    public struct AnswerError: Error, Sendable, Equatable {
        public let code: String
        public let reason: String
        public let missing: Bool
    }

    /// Checks the answers against the questions; returns them as lines "question: answer" for the appeal's card,
    /// in the questions' order. Unknown codes are refused: a client that sends them has the wrong definition.
    public static func lines(_ questions: [ChecklistQuestion], answers: [String: [String]]) throws(AnswerError) -> [String] {
        for code in answers.keys.sorted() where !questions.contains(where: { $0.code == code }) {
            throw AnswerError(code: code, reason: "is not a question of this topic", missing: false)
        }
        var lines: [String] = []
        for q in questions {
            let given = (answers[q.code] ?? []).map { $0.trimmed() }.filter { !$0.isEmpty }
            func refuse(_ reason: String) -> AnswerError { AnswerError(code: q.code, reason: reason, missing: false) }
            guard !given.isEmpty else {
                if q.required { throw AnswerError(code: q.code, reason: "is required", missing: true) }
                continue
            }
            guard q.datatype == .multivaluelist || given.count == 1 else { throw refuse("takes one value") }
            var shown: [String] = []
            for value in given {
                guard value.count <= 1000 else { throw refuse("is longer than 1000 characters") }
                switch q.datatype {
                case .number: guard Double(value.replacingOccurrences(of: ",", with: ".")) != nil else { throw refuse("must be a number") }
                case .datetime: guard W3CDateTime.parse(value) != nil else { throw refuse("must be a W3C date-time with a time zone") }
                case .singlevaluelist, .multivaluelist:
                    guard let known = q.values.first(where: { $0.key == value }) else {
                        throw refuse("must be one of " + q.values.map(\.key).joined(separator: ", "))
                    }
                    shown.append(known.name)
                    continue
                case .string, .text: break
                }
                shown.append(value)
            }
            lines.append("\(q.text): \(shown.joined(separator: ", "))")
        }
        return lines
    }

    /// `lines` as Open311 refuses: `attribute[code]` named in a GeoReport error.
    public static func answer(_ questions: [ChecklistQuestion], with answers: [String: [String]]) throws(GeoReportError) -> [String] {
        do throws(AnswerError) { return try lines(questions, answers: answers) } catch {
            throw error.missing ? .missing("attribute[\(error.code)]") : .invalid("attribute[\(error.code)]", error.reason)
        }
    }
}
