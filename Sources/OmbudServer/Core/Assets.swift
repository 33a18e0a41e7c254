import Foundation
import Vapor

/// The pages' scripts, from `Resources/Assets`, read once at start: only those files, by their exact names, are
/// served — never a path from the request.
struct Assets: RouteCollection {
    let files: [String: Data]

    static func load() throws -> Assets {
        guard let folder = Pages.resourcesURL?.appendingPathComponent("Assets") else { return Assets(files: [:]) }
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where name.hasSuffix(".js") {
            files[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return Assets(files: files)
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("assets", ":name") { req -> Response in
            guard let file = files[req.parameters.get("name") ?? ""] else { throw Abort(.notFound) }
            let response = Response(status: .ok, body: .init(data: file))
            response.headers.contentType = HTTPMediaType(type: "text", subType: "javascript", parameters: ["charset": "utf-8"])
            response.headers.replaceOrAdd(name: .cacheControl, value: "public, max-age=3600")
            response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
            return response
        }
    }
}
