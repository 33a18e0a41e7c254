import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// The full-text index of appeals. Tokens are normalised and stemmed in Swift, so both engines see the same words.
enum AppealSearch {
    static func index(appealID: UUID, document: String, db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "sqlite" else { return } // PostgreSQL indexes appeals.search_text itself.
        try await sql.raw("INSERT INTO appeal_search (appeal_id, body) VALUES (\(bind: appealID), \(bind: document))").run()
    }

    static func document(_ appeal: Appeal, applicantName: String?) -> String {
        TextNormalizer.searchDocument([appeal.trackingCode, appeal.text, applicantName, appeal.addressText, appeal.district])
    }

    /// After an applicant's name changes, their appeals must be found by the new name.
    static func refresh(appealsOf applicant: Applicant, db: any Database) async throws {
        let sql = db as! any SQLDatabase
        for appeal in try await Appeal.query(on: db).filter(\.$applicant.$id == applicant.requireID()).all() {
            appeal.searchText = document(appeal, applicantName: applicant.fullName)
            try await appeal.save(on: db)
            if sql.dialect.name == "sqlite" {
                try await sql.raw("DELETE FROM appeal_search WHERE appeal_id = \(bind: appeal.requireID())").run()
                try await index(appealID: appeal.requireID(), document: appeal.searchText, db: db)
            }
        }
    }

    /// Prefix match of every query word, so that «подъезд» also finds «подъездах».
    static func condition(_ query: String, dialect: String) -> SQLQueryString? {
        let tokens = TextNormalizer.searchTokens(query).prefix(12)
        guard !tokens.isEmpty else { return nil }
        if dialect == "sqlite" {
            let match = tokens.map { "\"\($0)\"*" }.joined(separator: " ")
            return "appeals.id IN (SELECT appeal_id FROM appeal_search WHERE appeal_search MATCH \(bind: match))"
        }
        let match = tokens.map { "\($0):*" }.joined(separator: " & ")
        return "to_tsvector('simple', appeals.search_text) @@ to_tsquery('simple', \(bind: match))"
    }
}
