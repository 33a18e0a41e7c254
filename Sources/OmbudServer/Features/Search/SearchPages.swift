import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// `/search?q=`: appeals (by the full-text index, within the reader's scope) and applicants (by name, phone or e-mail,
/// for readers allowed to see personal data), with the words the query found marked. A plain GET form: it works
/// without JavaScript and its results can be bookmarked.
struct SearchPages: RouteCollection {
    static let maxQuery = 200

    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(PageGuard(), RememberLanguage()).grouped(Require(.appealsRead)).get("search", use: search)
    }

    func search(req: Request) async throws -> Response {
        let q = (req.query[String.self, at: "q"] ?? "").trimmed()
        var context: [String: Any?] = ["q": q]
        guard !q.isEmpty else { return req.page("search", context.present) }
        guard q.count <= Self.maxQuery else {
            context["error"] = req.text("search", "tooLong", ["n": Self.maxQuery])
            return req.page("search", context.present, status: .unprocessableEntity)
        }
        let actor = try req.actor
        let cursor = req.query[String.self, at: "after"]
        let filters = AppealList.Filters(q: TextNormalizer.latinDigits(q), limit: 20, cursor: cursor)
        let page: AppealPage
        do {
            page = try await AppealList.page(filters, scope: try await req.appealCondition(), personal: actor.can(.personalData), hidden: req.hiddenMark,
                                             settings: req.settings, db: req.db, now: req.now)
        } catch let error as AppError where error.field == "cursor" {
            throw AppError.notFound(entity: "page", id: cursor ?? "")
        }
        let full = try await Self.texts(page.items.map(\.id), db: req.db)
        // The street address goes with personal data: without the permission the district alone is shown, as in lists.
        let showsAddress = actor.can(.personalData)
        let f = req.format
        context["appeals"] = page.items.map { item in
            // Without the permission only the list's excerpt, where the applicant's name and contacts are hidden.
            let (text, address) = showsAddress ? full[item.id] ?? (item.excerpt, nil) : (item.excerpt, nil)
            return [
                "code": item.trackingCode, "status": req.text("states", item.status), "statusKey": item.status,
                "received": f.date(CivilDate.of(item.receivedAt, in: req.settings.timeZone)), "overdue": item.overdue,
                "district": item.district, "text": Self.marked(text, q, excerpt: 240),
                "address": showsAddress ? address.map { ["parts": Self.marked($0, q, excerpt: nil)] } : nil,
            ].present
        }
        if actor.can(.export) { context["export"] = "/api/v1/appeals?q=\(q.queryValue)" }
        context["more"] = page.nextCursor.map { "/search?q=\(q.queryValue)&after=\($0.queryValue)" }
        if cursor == nil, actor.can(.applicantsRead), actor.can(.personalData) {
            context["applicants"] = try await ApplicantSearch.find(q, limit: 20, access: try await req.applicantAccess(), db: req.db).map { applicant in
                let summary = try ApplicantStore.summary(applicant)
                return [
                    "id": summary.id.uuidString, "name": Self.marked(summary.fullName, q, excerpt: nil),
                    "phones": summary.phones.isEmpty ? nil : summary.phones.joined(separator: ", "),
                    "emails": summary.emails.isEmpty ? nil : summary.emails.joined(separator: ", "),
                    "address": summary.postalAddress.map { ["parts": Self.marked($0, q, excerpt: nil)] },
                ].present
            }
            try await req.audit("personal-data.search", entity: "applicant", entityID: nil, details: q)
        }
        let applicantsFound = !((context["applicants"] as? [Any])?.isEmpty ?? true)
        context["hasApplicants"] = applicantsFound
        context["hasAppeals"] = !page.items.isEmpty
        context["nothing"] = page.items.isEmpty && !applicantsFound
        return req.page("search", context.present)
    }

    /// Segments for the template: `{{#parts}}{{#hit}}<mark>{{/hit}}…` keeps the escaping to Mustache.
    static func marked(_ text: String, _ q: String, excerpt: Int?) -> [[String: Any]] {
        SearchHighlight.segments(of: text, query: q, excerpt: excerpt).map { ["text": $0.text, "hit": $0.hit] }
    }

    /// The whole text and address of the found appeals: the match may lie past the list's 200-character excerpt.
    static func texts(_ ids: [UUID], db: any Database) async throws -> [UUID: (String, String?)] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await (db as! any SQLDatabase).select().columns("id", "text", "address_text").from(Appeal.schema)
            .where("id", .in, SQLBind.group(ids)).all()
        return Dictionary(try rows.map { row in
            (try row.decode(column: "id", as: UUID.self),
             (try row.decode(column: "text", as: String.self), try row.decode(column: "address_text", as: String?.self)))
        }, uniquingKeysWith: { a, _ in a })
    }
}
