import Foundation

/// Maps a row of the St Petersburg "Наш Санкт-Петербург" export to an appeal: topic from category and reason,
/// workflow state and per-question result from the portal's final status.
public enum SpbAppealsImport {
    public struct Row: Sendable, Equatable {
        public var externalID: String
        public var received: Date
        public var registered: Date?
        public var answered: Date?
        public var closed: Date?
        public var state: String
        public var result: QuestionResult?
        public var topicCode: String
        public var executorName: String?
        public var district: String?
        public var address: String?
        public var latitude: Double?
        public var longitude: Double?
        public var text: String
        public var answerText: String?
    }

    public enum ImportError: Error, Equatable { case missingColumn(String), invalidRow(id: String, field: String) }

    /// Whole weeks that bring the newest of `rows` into the week before `now`: the demo's appeals then look like
    /// current work — recent ones within their deadlines, weekdays kept — rather than years overdue. 0 when none is older.
    public static func demoShift(_ rows: [Row], now: Date) -> TimeInterval {
        guard let newest = rows.map(\.received).max(), newest < now else { return 0 }
        let week = 7 * 86_400.0
        return (now.timeIntervalSince(newest) / week).rounded(.down) * week
    }

    public static let requiredColumns = ["id", "created_at", "moderated_at", "first_answer_at", "closed_at", "final_status",
                                         "category", "reason", "district", "address", "latitude", "longitude",
                                         "executor_org", "text", "answer_text"]

    /// Portal timestamps are Moscow local time without an offset.
    public static func row(_ record: [String: String], zone: TimeZone) throws -> Row {
        for column in requiredColumns where record[column] == nil { throw ImportError.missingColumn(column) }
        let id = record["id"]!
        guard let received = parseTime(record["created_at"]!, zone: zone) else {
            throw ImportError.invalidRow(id: id, field: "created_at")
        }
        let (state, result) = status(record["final_status"]!)
        let text = record["text"]!.trimmed()
        return Row(
            externalID: id,
            received: received,
            registered: parseTime(record["moderated_at"]!, zone: zone),
            answered: parseTime(record["first_answer_at"]!, zone: zone),
            closed: parseTime(record["closed_at"]!, zone: zone),
            state: state,
            result: result,
            topicCode: topicCode(category: record["category"]!, reason: record["reason"]!),
            executorName: nonEmpty(record["executor_org"]),
            district: nonEmpty(record["district"]),
            address: nonEmpty(record["address"]),
            latitude: Double(record["latitude"]!),
            longitude: Double(record["longitude"]!),
            text: text.isEmpty ? (record["reason"] ?? "") : text,
            answerText: nonEmpty(record["answer_text"]))
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s = s?.trimmed(), !s.isEmpty else { return nil }
        return s
    }

    /// `2020-10-18T15:07:24.217139` in the given zone.
    public static func parseTime(_ text: String, zone: TimeZone) -> Date? {
        let main = text.split(separator: ".").first.map(String.init) ?? text
        let parts = main.split(whereSeparator: { $0 == "T" || $0 == " " })
        guard parts.count == 2, let date = CivilDate(iso: String(parts[0])) else { return nil }
        let clock = parts[1].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3 else { return nil }
        let fraction = text.split(separator: ".").dropFirst().first.flatMap { Double("0." + $0) } ?? 0
        let seconds = Double(clock[0] * 3600 + clock[1] * 60 + clock[2]) + fraction
        let local = Date(timeIntervalSince1970: Double(date.dayNumber) * 86_400 + seconds)
        return local.addingTimeInterval(-Double(zone.secondsFromGMT(for: local)))
    }

    static func status(_ finalStatus: String) -> (String, QuestionResult?) {
        switch finalStatus {
        case "Завершено: Пользователь удовлетворен решением проблемы": return ("closed", .supportedMeasuresTaken)
        case let s where s.hasPrefix("Завершено"): return ("closed", .answered)
        case "Получен ответ": return ("answered", .answered)
        case "Промежуточный ответ", "Рассмотрение": return ("in-progress", .inWork)
        default: return ("received", nil)
        }
    }

    /// Reason keywords first (they are more precise), then the category.
    public static func topicCode(category: String, reason: String) -> String {
        let r = reason.lowercased()
        if r.contains("снег") || r.contains("наледь") || r.contains("сосульк") { return "0003.0009.0097.0694" }
        if r.contains("мусор") && !category.contains("МКД") { return "0003.0009.0097.0694" }
        if r.contains("освещ") && !category.contains("МКД") { return "0003.0009.0097.0690" }
        if r.contains("асфальт") || r.contains("дорог") { return "0003.0009.0099.0742" }
        switch category {
        case "Благоустройство", "Повреждения или неисправность элементов уличной инфраструктуры": return "0003.0009.0097.0689"
        case "Незаконная информационная и (или) рекламная конструкция", "Состояние рекламных или информационных конструкций":
            return "0003.0012.0137.0885"
        case "Водоснабжение": return "0005.0005.0056.1154"
        case "Водоотведение": return "0005.0005.0056.1157"
        case "Центральное отопление": return "0005.0005.0056.1156"
        case "Санитарное состояние": return "0005.0005.0056.1161"
        case let c where c.hasPrefix("Незаконная реализация товаров"): return "0004.0016.0162.1016"
        default: return "0005.0005.0056.1168"
        }
    }

    /// A stable unit code for an executor body's name.
    public static func unitCode(forExecutor name: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return "spb-" + String(hash % 1_000_000_007, radix: 36)
    }
}

extension SpbAppealsImport.Row {
    /// The same row with every moment moved by `interval`.
    public func shifted(by interval: TimeInterval) -> Self {
        var row = self
        row.received = received.addingTimeInterval(interval)
        row.registered = registered?.addingTimeInterval(interval)
        row.answered = answered?.addingTimeInterval(interval)
        row.closed = closed?.addingTimeInterval(interval)
        return row
    }
}
