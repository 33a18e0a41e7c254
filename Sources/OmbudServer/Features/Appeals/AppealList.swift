import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// `GET /api/v1/appeals`: filters, full-text search and keyset (cursor) pagination, newest first.
enum AppealList {
    /// An excerpt as long as any text an appeal may have.
    static let wholeText = 1_000_000

    struct Filters: Content {
        var status: String?
        var office: String?
        var executor: String?
        var topic: String?
        var channel: String?
        var overdue: Bool?
        var receivedFrom: String?
        var receivedTo: String?
        var q: String?
        /// Appeals with a point in this box: `minLon,minLat,maxLon,maxLat`.
        var bbox: String?
        var limit: Int?
        var cursor: String?
    }

    /// Where the previous page ended: newest first by receipt (the moment as stored, then the id), or, for a
    /// full-text search on SQLite, by index order.
    enum Cursor: Equatable {
        case received(StoredMoment, UUID)
        case searchRow(Int64)

        var encoded: String {
            switch self {
            case let .received(moment, id): Data("\(moment.raw)|\(id.uuidString)".utf8).base64EncodedString()
            case let .searchRow(rowid): Data("r|\(rowid)".utf8).base64EncodedString()
            }
        }

        init?(_ text: String, dialect: String) {
            guard let data = Data(base64Encoded: text), let raw = String(data: data, encoding: .utf8) else { return nil }
            let parts = raw.split(separator: "|")
            guard parts.count == 2 else { return nil }
            if parts[0] == "r", let rowid = Int64(parts[1]) {
                self = .searchRow(rowid)
            } else if let moment = StoredMoment(parsing: String(parts[0]), dialect: dialect), let id = UUID(uuidString: String(parts[1])) {
                self = .received(moment, id)
            } else {
                return nil
            }
        }
    }

    struct Row {
        var id: UUID
        var tracking_code: String
        var status: String
        var channel: String
        var kind: String
        var received_at: Date
        var control_date: String?
        var registration_due: String
        var under_control: Bool
        var district: String?
        var text: String
        var search_rowid: Int64?
        var received_raw: StoredMoment
        var applicant_names: String?
        var address_hidden: String?

        /// Column by column: the keyed Decodable path of SQLKit cost a fifth of a list request.
        init(_ row: any SQLRow, dialect: String) throws {
            id = try row.decode(column: "id", as: UUID.self)
            tracking_code = try row.decode(column: "tracking_code", as: String.self)
            status = try row.decode(column: "status", as: String.self)
            channel = try row.decode(column: "channel", as: String.self)
            kind = try row.decode(column: "kind", as: String.self)
            received_at = try row.decode(column: "received_at", as: Date.self)
            control_date = try row.decode(column: "control_date", as: String?.self)
            registration_due = try row.decode(column: "registration_due", as: String.self)
            under_control = try row.decode(column: "under_control", as: Bool.self)
            district = try row.decode(column: "district", as: String?.self)
            text = try row.decode(column: "text", as: String.self)
            search_rowid = row.contains(column: "search_rowid") ? try row.decode(column: "search_rowid", as: Int64?.self) : nil
            received_raw = try StoredMoment.read(row, column: "received_raw", dialect: dialect)
            applicant_names = row.contains(column: "applicant_names") ? try row.decode(column: "applicant_names", as: String?.self) : nil
            address_hidden = row.contains(column: "address_hidden") ? try row.decode(column: "address_hidden", as: String?.self) : nil
        }
    }

    /// - Parameters:
    ///   - scope: the reader's access scope as a condition on `appeals` (nil: everything).
    ///   - personal: `q` finds appeals by their applicants' names and addresses too (readers with personal data, and
    ///     intake's own look-ups); without it, what of them is written in the excerpts is replaced by `hidden`.
    ///   - excerpt: how many characters of the text each item shows (`wholeText` for exports).
    static func page(_ f: Filters, scope: (any SQLExpression)?, personal: Bool, hidden: String, settings: Settings, db: any Database,
                     now: Date, excerpt: Int = 200) async throws -> AppealPage {
        let sql = db as! any SQLDatabase
        let limit = f.limit ?? 50
        guard (1...200).contains(limit) else { throw AppError.invalid(field: "limit", reason: "must be between 1 and 200") }
        let today = CivilDate.of(now, in: settings.timeZone)

        let match = f.q.flatMap { AppealSearch.match($0, dialect: sql.dialect.name, personal: personal) }
        // Words that leave nothing to search by (punctuation, or only what this reader may not search by) find nothing.
        if match == nil, f.q.nonBlank != nil { return AppealPage(items: [], nextCursor: nil) }
        // SQLite walks the FTS index newest first and stops at the page size; sorting all matches by date would not scale.
        let searchOrder = match != nil && sql.dialect.name == "sqlite"
        var query = sql.select()
            .columns("id", "tracking_code", "status", "channel", "kind", "received_at", "control_date", "registration_due",
                     "under_control", "district")
            .column(SQLFunction("substr", args: SQLColumn("text"), SQLLiteral.numeric("1"), SQLLiteral.numeric(String(excerpt))), as: "text")
            .column(StoredMoment.select("appeals.received_at", as: "received_raw", dialect: sql.dialect.name))
        if !personal {
            // The applicant's name, unless they agreed to publicity, to hide where the excerpt mentions it.
            query = query.column(SQLRaw("""
                (SELECT COALESCE(p.surname, '') || ' ' || COALESCE(p.name, '') || ' ' || COALESCE(p.patronymic, '') FROM applicants p \
                WHERE p.id = appeals.applicant_id AND p.publicity_consent = \(sql.dialect.name == "sqlite" ? "0" : "false"))
                """), as: "applicant_names")
                .column(SQLColumn("address_text", table: "appeals"), as: "address_hidden")
        }
        if let match, searchOrder {
            query = query.column(SQLRaw("appeal_search.rowid"), as: "search_rowid")
                .from("appeal_search")
                .join(SQLIdentifier("appeals"), method: SQLJoinMethod.inner, on: SQLRaw("appeals.rowid = appeal_search.rowid"))
                .where(SQLQueryString("appeal_search MATCH \(bind: match)"))
        } else if let match {
            query = query.from("appeals").where(SQLQueryString("appeals.search_vector @@ to_tsquery('simple', \(bind: match))"))
        } else {
            query = query.from("appeals")
        }
        query = try await filtered(query, f, scope: scope, settings: settings, today: today, db: db)
        switch (f.cursor.map { Cursor($0, dialect: sql.dialect.name) }, searchOrder) {
        case (nil, _): break
        case let (.received(moment, id)?, false):
            query = query.where(SQLQueryString("(received_at < \(moment.value) OR (received_at = \(moment.value) AND id < \(bind: id)))"))
        case let (.searchRow(rowid)?, true):
            query = query.where(SQLQueryString("appeal_search.rowid < \(bind: rowid)"))
        default:
            throw AppError.invalid(field: "cursor", reason: "is not a cursor from this API for this query")
        }
        query = searchOrder ? query.orderBy(SQLRaw("appeal_search.rowid"), SQLDirection.descending)
            : query.orderBy("received_at", .descending).orderBy("id", .descending)
        let rows = try await query.limit(limit + 1).all().map { try Row($0, dialect: sql.dialect.name) }
        let items = rows.prefix(limit).map { row in
            AppealListItem(id: row.id, trackingCode: row.tracking_code, status: row.status, channel: row.channel, kind: row.kind,
                           receivedAt: row.received_at, controlDate: row.control_date,
                           overdue: AppealQueries.isOverdue(controlDate: row.control_date, registrationDue: row.registration_due,
                                                             underControl: row.under_control, today: today),
                           district: row.district,
                           excerpt: personal ? row.text : PersonalDataRedaction(names: [row.applicant_names], phrases: [row.address_hidden], hidden: hidden)(row.text))
        }
        let last = rows.prefix(limit).last
        let next = rows.count > limit ? last.map { row in
            (row.search_rowid.map(Cursor.searchRow) ?? .received(row.received_raw, row.id)).encoded
        } : nil
        return AppealPage(items: Array(items), nextCursor: next)
    }

    /// The list's filters and the reader's scope on a query of `appeals` (full-text `q` apart): the same rows for the
    /// list, the statistics and the exports.
    static func filtered(_ query: SQLSelectBuilder, _ f: Filters, scope: (any SQLExpression)?, settings: Settings, today: CivilDate,
                         db: any Database) async throws -> SQLSelectBuilder {
        var query = query
        let units = UnitLookup(db: db)
        if let scope { query = query.where(scope) }
        if let status = list(f.status) {
            for s in status where AppealTransitions.workflow.state(s) == nil {
                throw AppError.invalid(field: "status", reason: "unknown status \(s)")
            }
            query = query.where(SQLColumn("status", table: "appeals"), .in, SQLBind.group(status))
        }
        if let channel = list(f.channel) {
            for c in channel where AppealChannel(rawValue: c) == nil { throw AppError.invalid(field: "channel", reason: "unknown channel \(c)") }
            query = query.where(SQLColumn("channel", table: "appeals"), .in, SQLBind.group(channel))
        }
        if let office = f.office.nonBlank, let unitID = try await units.id(office, field: "office") {
            query = query.where(SQLColumn("office_id", table: "appeals"), .equal, SQLBind(unitID))
        }
        if let topic = f.topic?.trimmingCharacters(in: .whitespaces), !topic.isEmpty {
            // A topic filter includes its subtree: 0005.0005 finds every question below it.
            query = query.where(SQLQueryString("EXISTS (SELECT 1 FROM questions WHERE questions.appeal_id = appeals.id AND (questions.topic_code = \(bind: topic) OR questions.topic_code LIKE \(bind: Self.below(topic)) ESCAPE '\\'))"))
        }
        if let executor = f.executor?.trimmingCharacters(in: .whitespaces), !executor.isEmpty {
            if let userID = UUID(uuidString: executor) {
                query = query.where(SQLQueryString("EXISTS (SELECT 1 FROM questions WHERE questions.appeal_id = appeals.id AND questions.executor_user_id = \(bind: userID))"))
            } else if let unitID = try await units.id(executor, field: "executor") {
                query = query.where(SQLQueryString("EXISTS (SELECT 1 FROM questions WHERE questions.appeal_id = appeals.id AND questions.executor_unit_id = \(bind: unitID))"))
            }
        }
        if let raw = f.bbox.nonBlank {
            do { query = query.where(inside(try MapGrid.Box(parsing: raw))) } catch { throw error.appError }
        }
        if let overdue = f.overdue {
            let condition = AppealQueries.overdueSQL(today: today)
            query = overdue ? query.where(condition) : query.where(SQLQueryString("NOT ") + condition)
        }
        if let from = f.receivedFrom {
            guard let day = CivilDate(iso: from) else { throw AppError.invalid(field: "receivedFrom", reason: "expected YYYY-MM-DD") }
            query = query.where(SQLColumn("received_at", table: "appeals"), .greaterThanOrEqual, SQLBind(day.start(in: settings.timeZone)))
        }
        if let to = f.receivedTo {
            guard let day = CivilDate(iso: to) else { throw AppError.invalid(field: "receivedTo", reason: "expected YYYY-MM-DD") }
            query = query.where(SQLColumn("received_at", table: "appeals"), .lessThan, SQLBind(day.adding(days: 1).start(in: settings.timeZone)))
        }
        return query
    }

    /// The appeals with a point in the box (its west and south edges included, its east and north ones not, so that
    /// neighbouring boxes share no point).
    static func inside(_ box: MapGrid.Box) -> SQLQueryString {
        "appeals.lat >= \(literal: box.minLat) AND appeals.lat < \(literal: box.maxLat) AND appeals.lon >= \(literal: box.minLon) AND appeals.lon < \(literal: box.maxLon)"
    }

    /// The LIKE pattern of the codes below a topic, its own characters taken literally (`ESCAPE '\'`).
    static func below(_ topic: String) -> String {
        topic.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + ".%"
    }

    static func list(_ raw: String?) -> [String]? {
        guard let raw else { return nil }
        let values = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return values.isEmpty ? nil : values
    }
}
