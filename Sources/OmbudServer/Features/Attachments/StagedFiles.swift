import Foundation
import OmbudDomain
import Vapor

/// Files sent with an intake form that was refused (a missing topic, a repeat to confirm, a card to choose): kept
/// under the form's own token until the form is registered, so the operator does not choose them again. Stored by
/// number under a folder named by the token (a UUID the server issued), never under a name the browser sent; the
/// names shown are sanitised. Housekeeping removes what a day left behind.
enum StagedFiles {
    struct Entry: Codable { var name: String; var file: String }

    static func folder(_ token: UUID, settings: Settings) -> URL {
        settings.dataDirectory.appendingPathComponent("staging", isDirectory: true).appendingPathComponent(token.uuidString.lowercased(), isDirectory: true)
    }

    private static func manifest(_ token: UUID, settings: Settings) -> [Entry] {
        guard let data = try? Data(contentsOf: folder(token, settings: settings).appendingPathComponent("files.json")) else { return [] }
        return (try? JSONDecoder().decode([Entry].self, from: data)) ?? []
    }

    /// Keeps `files` (already checked for size and name) next to those kept before; returns every kept name.
    @discardableResult
    static func keep(_ files: [File], token: UUID, settings: Settings) throws -> [String] {
        var entries = manifest(token, settings: settings)
        guard !files.isEmpty else { return entries.map(\.name) }
        let dir = folder(token, settings: settings)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for file in files {
            let name = (try? AttachmentRules.sanitizedName(file.filename)) ?? "file"
            let stored = String(entries.count + 1)
            try Data(file.data.readableBytesView).write(to: dir.appendingPathComponent(stored), options: .atomic)
            entries.append(Entry(name: name, file: stored))
        }
        try JSONEncoder().encode(entries).write(to: dir.appendingPathComponent("files.json"), options: .atomic)
        return entries.map(\.name)
    }

    static func names(_ token: UUID?, settings: Settings) -> [String] {
        token.map { manifest($0, settings: settings).map(\.name) } ?? []
    }

    /// The kept files as a form's files, to be stored with the appeal.
    static func files(_ token: UUID, settings: Settings) -> [File] {
        let dir = folder(token, settings: settings)
        return manifest(token, settings: settings).compactMap { entry in
            guard let data = try? Data(contentsOf: dir.appendingPathComponent(entry.file)) else { return nil }
            return File(data: ByteBuffer(data: data), filename: entry.name)
        }
    }

    static func discard(_ token: UUID, settings: Settings) {
        try? FileManager.default.removeItem(at: folder(token, settings: settings))
    }

    /// Folders older than a day: forms abandoned.
    static func sweep(settings: Settings, now: Date) {
        let root = settings.dataDirectory.appendingPathComponent("staging", isDirectory: true)
        guard let folders = try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: [.contentModificationDateKey]) else { return }
        for folder in folders {
            let modified = (try? folder.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            if modified < now.addingTimeInterval(-86_400) { try? FileManager.default.removeItem(at: folder) }
        }
    }
}
