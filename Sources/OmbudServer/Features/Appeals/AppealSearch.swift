import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// The full-text index of appeals. Tokens are normalised and stemmed in Swift, so both engines see the same words.
enum AppealSearch {
    /// What an appeal is found by: its code, text, applicant's name and address.
    static func document(trackingCode: String, text: String, applicantName: String?, address: String?, district: String?) -> String {
        TextNormalizer.searchDocument([trackingCode, text, applicantName, address, district])
    }

    static func document(_ appeal: Appeal, applicantName: String?) -> String {
        document(trackingCode: appeal.trackingCode, text: appeal.text, applicantName: applicantName, address: appeal.addressText,
                 district: appeal.district)
    }

    /// After an applicant's name changes, their appeals must be found by the new name (the index follows by trigger).
    static func refresh(appealsOf applicant: Applicant, db: any Database) async throws {
        for appeal in try await Appeal.query(on: db).filter(\.$applicant.$id == applicant.requireID()).all() {
            appeal.searchText = document(appeal, applicantName: applicant.fullName)
            try await appeal.save(on: db)
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
