import Foundation
import MultipartKit
import OmbudDomain
import Vapor

/// Refuses U+0000 everywhere a request can carry it, with 422 naming the field: the path and the query here, before
/// any route runs; JSON, form and multipart bodies in their decoders (`NULRefusingDecoder`), where the route's own
/// error handling answers in its format (JSON, a page, Open311's error list).
struct NULGuard: AsyncMiddleware {
    func respond(to req: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if NULScan.path(req.url.path) { throw AppError.nulCharacter(field: "path") }
        if let query = req.url.query, let field = NULScan.form(query) { throw AppError.nulCharacter(field: field) }
        return try await next.respond(to: req)
    }

    /// A file read as text (past the request decoders): refused naming `field` when it holds U+0000.
    static func refuse(_ text: String, field: String) throws {
        if text.contains("\u{0}") { throw AppError.nulCharacter(field: field) }
    }

    /// Wraps the decoders of JSON, forms and multipart bodies.
    static func install(json: any ContentDecoder) throws {
        // The configuration is global and each application (each test) configures it again: wrap the plain decoders once.
        func plain(_ type: HTTPMediaType) throws -> any ContentDecoder {
            let current = try ContentConfiguration.global.requireDecoder(for: type)
            return (current as? NULRefusingDecoder)?.base ?? current
        }
        let form = try plain(.urlEncodedForm)
        let multipart = try plain(.formData)
        ContentConfiguration.global.use(decoder: NULRefusingDecoder(base: json) { body, _ in NULScan.json(Array(buffer: body)) }, for: .json)
        ContentConfiguration.global.use(decoder: NULRefusingDecoder(base: form) { body, _ in NULScan.form(String(buffer: body)) }, for: .urlEncodedForm)
        ContentConfiguration.global.use(decoder: NULRefusingDecoder(base: multipart) { body, headers in multipartField(body, headers: headers) },
                                        for: .formData)
    }

    /// The fields of Ombud's forms that take files (any byte is fine there); every other part is text, whatever its
    /// headers claim, since a text field decodes from a part that carries a file name too.
    static let fileFields: Set<String> = ["file", "files", "files[]"]

    /// The name of the first field of a multipart form (not a file: files may hold any byte) with U+0000 in it.
    static func multipartField(_ body: ByteBuffer, headers: HTTPHeaders) -> String? {
        guard let boundary = headers.contentType?.parameters["boundary"], body.readableBytesView.contains(0) else { return nil }
        let parser = MultipartParser(boundary: boundary)
        var name: String?
        var isFile = false
        var found: String?
        parser.onHeader = { field, value in
            guard field.lowercased() == "content-disposition" else { return }
            name = value.split(separator: ";").compactMap { part -> String? in
                let pair = part.trimmingCharacters(in: .whitespaces)
                guard pair.hasPrefix("name=") else { return nil }
                return pair.dropFirst(5).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }.first
            isFile = name.map(fileFields.contains) ?? false
        }
        parser.onBody = { chunk in
            if found == nil, !isFile, chunk.readableBytesView.contains(0) { found = name ?? "body" }
        }
        parser.onPartComplete = {
            name = nil
            isFile = false
        }
        try? parser.execute(body)
        return found
    }
}

/// A body decoder that first looks for U+0000 and refuses it naming the field.
struct NULRefusingDecoder: ContentDecoder {
    let base: any ContentDecoder
    let scan: @Sendable (ByteBuffer, HTTPHeaders) -> String?

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders) throws -> D {
        try check(body, headers)
        return try base.decode(D.self, from: body, headers: headers)
    }

    func decode<D: Decodable>(_ decodable: D.Type, from body: ByteBuffer, headers: HTTPHeaders,
                              userInfo: [CodingUserInfoKey: any Sendable]) throws -> D {
        try check(body, headers)
        return try base.decode(D.self, from: body, headers: headers, userInfo: userInfo)
    }

    private func check(_ body: ByteBuffer, _ headers: HTTPHeaders) throws {
        if let field = scan(body, headers) { throw AppError.nulCharacter(field: field) }
    }
}
