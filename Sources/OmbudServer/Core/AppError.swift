import Vapor
import OmbudDomain

/// Every error the API reports on purpose. `field` names the input at fault.
public enum AppError: Error, Sendable {
    case invalid(field: String, reason: String)
    /// The character U+0000 in a field: refused everywhere (PostgreSQL cannot store it).
    case nulCharacter(field: String)
    case missing(field: String)
    case notFound(entity: String, id: String)
    case unknownTopic(code: String, field: String)
    case transitionNotAllowed(from: String, to: String, allowed: [String])
    case forbidden(reason: String)
    case unauthorized
    case conflict(code: String, reason: String, field: String?)
    case tooLarge(field: String, limit: Int)
    /// A session cookie that has expired or was ended (logout, password change, deactivation).
    case sessionExpired
    /// A state-changing request with a session cookie but without its CSRF token.
    case csrf
    /// Wrong login or password: deliberately the same whether the login exists or not.
    case signInFailed
    case tooManyAttempts(retryAfter: Int)
    /// Public forms: more submissions from one address than the rate limit allows.
    case tooManyRequests(retryAfter: Int)
    case directoryUnavailable
}

extension AppError: AbortError {
    public var status: HTTPResponseStatus {
        switch self {
        case .invalid, .missing, .unknownTopic, .nulCharacter: .unprocessableEntity
        case .notFound: .notFound
        case .transitionNotAllowed, .conflict: .conflict
        case .forbidden: .forbidden
        case .unauthorized: .unauthorized
        case .tooLarge: .payloadTooLarge
        case .sessionExpired, .signInFailed: .unauthorized
        case .csrf: .forbidden
        case .tooManyAttempts, .tooManyRequests: .tooManyRequests
        case .directoryUnavailable: .serviceUnavailable
        }
    }

    public var code: String {
        switch self {
        case .invalid: "invalid"
        case .nulCharacter: "nul-character"
        case .missing: "missing"
        case .notFound: "not-found"
        case .unknownTopic: "unknown-topic"
        case .transitionNotAllowed: "transition-not-allowed"
        case .forbidden: "forbidden"
        case .unauthorized: "unauthorized"
        case let .conflict(code, _, _): code
        case .tooLarge: "too-large"
        case .sessionExpired: "session-expired"
        case .csrf: "csrf"
        case .signInFailed: "sign-in-failed"
        case .tooManyAttempts: "too-many-attempts"
        case .tooManyRequests: "too-many-requests"
        case .directoryUnavailable: "directory-unavailable"
        }
    }

    public var reason: String {
        switch self {
        case let .invalid(field, reason): "\(field): \(reason)"
        case let .nulCharacter(field): "\(field): \(NULScan.reason)"
        case let .missing(field): "\(field) is required"
        case let .notFound(entity, id): "\(entity) \(id) not found"
        case let .unknownTopic(code, _): "unknown or non-assignable topic code \(code)"
        case let .transitionNotAllowed(from, to, allowed):
            "transition from \(from) to \(to) is not allowed; allowed: \(allowed.isEmpty ? "none" : allowed.joined(separator: ", "))"
        case let .forbidden(reason): reason
        case .unauthorized: "sign in, or send a valid bearer token"
        case .sessionExpired: "the session has ended; sign in again"
        case .csrf: "the request lacks this session's CSRF token (_csrf field or X-CSRF-Token header); reload the page and try again"
        case .signInFailed: "wrong login or password"
        case let .tooManyAttempts(seconds): "too many failed logins; try again in \(LoginThrottle.minutes(seconds)) min"
        case let .tooManyRequests(seconds): "too many requests from this address; try again in \(LoginThrottle.minutes(seconds)) min"
        case .directoryUnavailable: "the domain directory (LDAP) cannot be reached; accounts kept in Ombud can still sign in"
        case let .conflict(_, reason, _): reason
        case let .tooLarge(field, limit): "\(field) exceeds the limit of \(limit) bytes"
        }
    }

    /// The reason without the field's path in front: what a form shows next to the field itself.
    public var detail: String {
        if case let .invalid(_, reason) = self { return reason }
        return reason
    }

    public var field: String? {
        switch self {
        case let .invalid(field, _), let .missing(field), let .unknownTopic(_, field), let .tooLarge(field, _), let .nulCharacter(field): field
        case let .conflict(_, _, field): field
        case .transitionNotAllowed: "to"
        case .csrf: "_csrf"
        case .notFound, .forbidden, .unauthorized, .sessionExpired, .signInFailed, .tooManyAttempts, .tooManyRequests, .directoryUnavailable: nil
        }
    }

    public var allowed: [String]? {
        if case let .transitionNotAllowed(_, _, allowed) = self { return allowed }
        return nil
    }
}

extension AppError {
    /// Translates the workflow engine's verdict into the API's words.
    init(_ error: WorkflowError) {
        switch error {
        case let .unknownState(state): self = .invalid(field: "to", reason: "unknown state \(state)")
        case let .notAllowed(from, to, allowed): self = .transitionNotAllowed(from: from, to: to, allowed: allowed)
        case let .roleNotPermitted(to): self = .forbidden(reason: "your role may not move the appeal to \(to)")
        case let .missing(field): self = .missing(field: field)
        case let .complaintToComplainedUnit(unit):
            self = .conflict(code: "complaint-to-complained-unit",
                             reason: "a complaint cannot be redirected to the unit it complains about (\(unit))", field: "unitCode")
        case let .questionsWithoutFinalResult(count):
            self = .conflict(code: "questions-not-final", reason: "\(count) question(s) have no final result", field: "questions")
        }
    }

    init(_ error: DeadlineError) {
        switch error {
        case .alreadyExtended: self = .conflict(code: "already-extended", reason: "the answer deadline was already extended once", field: "days")
        case let .extensionOutOfRange(maximum): self = .invalid(field: "days", reason: "must be between 1 and \(maximum)")
        case .reasonRequired: self = .missing(field: "reason")
        case .notRegistered: self = .conflict(code: "not-registered", reason: "the appeal has no answer deadline yet", field: nil)
        }
    }

    init(_ error: AttachmentError) {
        switch error {
        case let .tooLarge(limit): self = .tooLarge(field: "file", limit: limit)
        case .empty: self = .invalid(field: "file", reason: "the file is empty")
        case .pathInName: self = .invalid(field: "file", reason: "the file name must not contain a path")
        case .invalidName: self = .invalid(field: "file", reason: "the file name is not valid")
        }
    }
}
