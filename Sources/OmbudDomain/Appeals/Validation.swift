/// A rule broken by input, naming the field at fault.
public struct ValidationError: Error, Equatable, Sendable {
    public let field: String
    public let reason: String
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
}

public enum Validate {
    public static let maxTextLength = 20_000

    /// A value of a closed vocabulary; `nil` takes the default when there is one.
    public static func choice<E: RawRepresentable & CaseIterable>(_ raw: String?, field: String, default fallback: E? = nil) throws(ValidationError) -> E where E.RawValue == String {
        guard let raw, !raw.isEmpty else {
            if let fallback { return fallback }
            throw ValidationError(field: field, reason: "is required")
        }
        guard let value = E(rawValue: raw) else {
            throw ValidationError(field: field, reason: "must be one of " + E.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return value
    }

    public static func text(_ raw: String?, field: String, required: Bool = true, max: Int = maxTextLength) throws(ValidationError) -> String? {
        let text = raw?.trimmed() ?? ""
        if text.isEmpty {
            if required { throw ValidationError(field: field, reason: "is required") }
            return nil
        }
        guard text.count <= max else { throw ValidationError(field: field, reason: "is longer than \(max) characters") }
        return text
    }

    public static func coordinates(lat: Double?, lon: Double?, field: String) throws(ValidationError) {
        switch (lat, lon) {
        case (nil, nil): return
        case let (lat?, lon?):
            guard (-90...90).contains(lat) else { throw ValidationError(field: "\(field).lat", reason: "must be between -90 and 90") }
            guard (-180...180).contains(lon) else { throw ValidationError(field: "\(field).lon", reason: "must be between -180 and 180") }
        case (nil, _): throw ValidationError(field: "\(field).lat", reason: "is required with lon")
        case (_, nil): throw ValidationError(field: "\(field).lon", reason: "is required with lat")
        }
    }

    /// An applicant must be reachable for an answer: a name, or an organisation name, plus some contact.
    /// Anonymous appeals (art. 11) are allowed by leaving the applicant out entirely.
    public static func applicantName(kind: ApplicantKind, surname: String?, name: String?, organisationName: String?, field: String) throws(ValidationError) {
        switch kind {
        case .person:
            if (surname ?? "").trimmingCharacters(in: .whitespaces).isEmpty && (name ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(field: "\(field).surname", reason: "a surname or a name is required")
            }
        case .organisation:
            if (organisationName ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError(field: "\(field).organisationName", reason: "is required for an organisation")
            }
        }
    }
}

import Foundation
