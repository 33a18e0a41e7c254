import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// The full-text index of appeals. Tokens are normalised and stemmed in Swift, so both engines see the same words.
enum AppealSearch {
    /// Indexes appeals already written, by id. PostgreSQL indexes `appeals.search_text` itself.
    static func index(_ ids: [UUID], db: any Database) async throws {
        let sql = db as! any SQLDatabase
        guard sql.dialect.name == "sqlite", !ids.isEmpty else { return }
        try await sql.raw("INSERT INTO appeal_search (rowid, body) SELECT rowid, search_text FROM appeals WHERE id IN (\(binds: ids))").run()
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
                try await sql.raw("DELETE FROM appeal_search WHERE rowid = (SELECT rowid FROM appeals WHERE id = \(bind: appeal.requireID()))").run()
                try await index([appeal.requireID()], db: db)
            }
        }
    }

    /// Prefix match of every query word, so that «подъезд» also finds «подъездах»: an FTS5 MATCH expression on SQLite,
    /// a tsquery on PostgreSQL. Tokens hold only letters and digits, so they need no further quoting.
    static func match(_ query: String, dialect: String) -> String? {
        let tokens = TextNormalizer.searchTokens(query).prefix(12)
        guard !tokens.isEmpty else { return nil }
        if dialect == "sqlite" { return tokens.map { "\"\($0)\"*" }.joined(separator: " ") }
        return tokens.map { "\($0):*" }.joined(separator: " & ")
    }
}
