import Fluent
import OmbudDomain
import Vapor

struct AttachmentView: Content {
    var id: UUID
    var fileName: String
    var contentType: String
    var size: Int
    var sha256: String
    var createdAt: Date

    init(_ a: Attachment) throws {
        id = try a.requireID()
        fileName = a.fileName
        contentType = a.contentType
        size = a.size
        sha256 = a.sha256
        createdAt = a.createdAt
    }
}

struct AttachmentsController: RouteCollection {
    let limit: Int

    struct Upload: Content {
        var file: File
    }

    func boot(routes: any RoutesBuilder) throws {
        // Multipart framing adds a little; the file itself is checked against the limit exactly.
        routes.grouped(Require(.appealsEdit))
            .on(.POST, "appeals", ":id", "attachments", body: .collect(maxSize: ByteCount(value: limit + 64 * 1024)), use: upload)
        let read = routes.grouped(Require(.appealsRead))
        read.get("appeals", ":id", "attachments", use: list)
        read.get("attachments", ":attachmentID", use: download)
    }

    func upload(req: Request) async throws -> Response {
        let actor = try req.actor
        let appealID = try await req.visibleAppealID()
        guard req.headers.contentType?.type == "multipart" else {
            throw AppError.invalid(field: "file", reason: "send the file as multipart/form-data in a field named file")
        }
        let upload: Upload
        do { upload = try req.content.decode(Upload.self) } catch { throw AppError.missing(field: "file") }
        let attachment = try await AttachmentStore.save(appealID: appealID, fileName: upload.file.filename, data: upload.file.data,
                                                        actor: actor, settings: req.settings, store: req.store, now: req.now)
        return try await AttachmentView(attachment).encodeResponse(status: .created, for: req)
    }

    func list(req: Request) async throws -> [AttachmentView] {
        let appeal = try await req.visibleAppeal(try req.appealIDParameter())
        let views = try await Attachment.query(on: req.db).filter(\.$appeal.$id == appeal.requireID()).sort(\.$createdAt).all().map(AttachmentView.init)
        guard try await req.mayOpenFiles(of: appeal) else {
            return views.enumerated().map { $1.unnamed($0 + 1, hidden: req.hiddenMark) }
        }
        return views
    }

    func download(req: Request) async throws -> Response {
        let notFound = AppError.notFound(entity: "attachment", id: req.parameters.get("attachmentID") ?? "")
        guard let id = req.parameters.get("attachmentID", as: UUID.self), let attachment = try await Attachment.find(id, on: req.db) else {
            throw notFound
        }
        // An attachment of an appeal outside the scope is as unknown as the appeal.
        let appeal: Appeal
        do { appeal = try await req.visibleAppeal(attachment.$appeal.id) } catch AppError.notFound { throw notFound }
        // A file the reader may not open (personal data) is as unknown as one that does not exist.
        guard try await req.mayOpenFiles(of: appeal) else { throw notFound }
        let path = AttachmentStore.path(sha256: attachment.sha256, settings: req.settings)
        let data = try Data(contentsOf: path)
        let response = Response(status: .ok, body: .init(data: data))
        response.headers.replaceOrAdd(name: .contentType, value: attachment.contentType)
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        let inline = attachment.contentType.hasPrefix("image/") || attachment.contentType == "application/pdf"
        let encoded = attachment.fileName.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "file"
        response.headers.replaceOrAdd(name: .contentDisposition, value: "\(inline ? "inline" : "attachment"); filename*=UTF-8''\(encoded)")
        // Nothing in a file may run. A sandboxed PDF is not shown by browsers' viewers, so a PDF is only denied everything else.
        response.headers.replaceOrAdd(name: "Content-Security-Policy",
                                      value: attachment.contentType == "application/pdf" ? "default-src 'none'; object-src 'self'" : "default-src 'none'; sandbox")
        return response
    }
}

enum AttachmentStore {
    static func path(sha256: String, settings: Settings) -> URL {
        settings.attachmentsDirectory.appendingPathComponent(AttachmentRules.relativePath(sha256: sha256))
    }

    /// Content-addressed: the file is written once under its SHA-256, atomically, before the row is committed.
    /// `limit` replaces the installation's attachment limit (the raw message of a mail is kept whole).
    static func save(appealID: UUID, fileName: String, data buffer: ByteBuffer, actor: Actor, settings: Settings,
                     store: Store, now: Date, limit: Int? = nil) async throws -> Attachment {
        let name: String
        do {
            name = try AttachmentRules.sanitizedName(fileName)
            try AttachmentRules.checkSize(buffer.readableBytes, limit: limit ?? settings.attachmentLimit)
        } catch { throw AppError(error) }
        let data = Data(buffer.readableBytesView)
        let digest = SHA256.hash(data: data).hexString
        let target = path(sha256: digest, settings: settings)
        let files = FileManager.default
        if !files.fileExists(atPath: target.path) {
            try files.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).part")
            try data.write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            try handle.synchronize()
            try handle.close()
            // rename(2) is atomic: readers see no file or the whole file. A concurrent upload of the same content may win.
            if rename(temporary.path, target.path) != 0 {
                try? files.removeItem(at: temporary)
                guard files.fileExists(atPath: target.path) else {
                    throw AppError.conflict(code: "storage", reason: "the file could not be stored", field: "file")
                }
            }
        }
        return try await store.write { db in
            let attachment = Attachment()
            attachment.id = UUID.timeOrdered()
            attachment.$appeal.id = appealID
            attachment.sha256 = digest
            attachment.fileName = name
            attachment.contentType = AttachmentRules.sniffType(data.prefix(16), name: name)
            attachment.size = data.count
            attachment.uploadedBy = actor.isUser ? actor.userID : nil
            attachment.createdAt = now
            try await attachment.create(on: db)
            try await HistoryRecorder(db: db, actor: actor, at: now)
                .record(entity: "appeal", id: appealID, appealID: appealID, action: "attach", field: "attachments", to: name)
            return attachment
        }
    }
}

