import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// The full-text index of appeals. Tokens are normalised and stemmed in Swift, so both engines see the same words.
enum AppealSearch {
    /// What an appeal is found by: its code, text and district, and — for readers with the personal-data permission —
    /// its applicant's name and address (`PersonalSearch`).
    static func document(trackingCode: String, text: String, applicantName: String?, address: String?, district: String?) -> String {
        PersonalSearch.document(open: [trackingCode, text, district], personal: [applicantName, address])
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
    /// `personal`: the reader may find appeals by personal data (names, addresses).
    static func match(_ query: String, dialect: String, personal: Bool) -> String? {
        let terms = PersonalSearch.terms(query, personal: personal)
        guard !terms.isEmpty else { return nil }
        func group(_ forms: [String], _ or: String) -> String { forms.count == 1 ? forms[0] : "(" + forms.joined(separator: or) + ")" }
        if dialect == "sqlite" { return terms.map { group($0.map { "\"\($0)\"*" }, " OR ") }.joined(separator: " AND ") }
        return terms.map { group($0.map { "\($0):*" }, " | ") }.joined(separator: " & ")
    }
}
