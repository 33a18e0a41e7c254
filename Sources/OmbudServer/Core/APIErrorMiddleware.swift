import Vapor

/// Answers every error as `{"error", "reason", "field"}`. Bad input is 4xx; only our own faults are 500.
struct APIErrorMiddleware: AsyncMiddleware {
    struct Body: Content {
        var error: String
        var reason: String
        var field: String?
        var allowed: [String]?
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            return Self.response(for: error, request: request)
        }
    }

    static func response(for error: any Error, request: Request) -> Response {
        let status: HTTPResponseStatus
        var body: Body
        switch error {
        case let error as AppError:
            status = error.status
            body = Body(error: error.code, reason: error.reason, field: error.field, allowed: error.allowed)
        case let error as DecodingError:
            status = .badRequest
            body = Body(error: "invalid-body", reason: Self.describe(error), field: Self.field(of: error))
        case let error as any AbortError:
            status = error.status
            let code = error.status == .notFound ? "not-found" : error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-")
            body = Body(error: code, reason: error.reason, field: nil)
        case _ where DatabaseOutage.matches(error):
            request.logger.warning("database unavailable: \(String(reflecting: error))")
            status = .serviceUnavailable
            body = Body(error: "unavailable", reason: "the database cannot be reached just now; nothing was changed, try again shortly", field: nil)
        default:
            request.logger.report(error: error)
            status = .internalServerError
            body = Body(error: "internal", reason: "internal error; it has been logged", field: nil)
        }
        let response = Response(status: status)
        if status == .serviceUnavailable { response.headers.replaceOrAdd(name: .retryAfter, value: String(DatabaseOutage.retryAfter)) }
        try? response.content.encode(body, as: .json)
        return response
    }

    static func field(of error: DecodingError) -> String? {
        let path: [any CodingKey]
        switch error {
        case let .keyNotFound(key, context): path = context.codingPath + [key]
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context): path = context.codingPath
        @unknown default: return nil
        }
        let name = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            .replacingOccurrences(of: ".[", with: "[")
        return name.isEmpty ? nil : name
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, _): "missing required field \(key.stringValue)"
        case let .typeMismatch(type, _): "wrong type, expected \(type)"
        case .valueNotFound: "value must not be null"
        case let .dataCorrupted(context):
            context.codingPath.isEmpty ? "malformed JSON" : context.debugDescription
        @unknown default: "invalid body"
        }
    }
}
