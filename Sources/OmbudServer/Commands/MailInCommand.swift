import Foundation
import Vapor

/// `ombud mail-in`: one RFC 5322 message on standard input (as an MTA pipes it, e.g. from /etc/aliases
/// `appeals: "|/usr/local/bin/ombud mail-in"`), or `--maildir PATH`: every message in the maildir's `new/`, moved to
/// `cur/` once taken (and, with `--watch`, again every few seconds). A message that cannot be taken is kept in
/// `<data>/mail/quarantine/` with its reason, and the command exits non-zero naming it.
struct MailInCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Option(name: "maildir", help: "a maildir folder to take messages from (its new/ subfolder) instead of standard input")
        var maildir: String?
        @Flag(name: "watch", help: "with --maildir: keep watching the folder until stopped") var watch: Bool
        @Option(name: "interval", help: "with --watch: seconds between looks (default 5)") var interval: Double?
        init() {}
    }

    var help: String { "Takes e-mail into the registry: standard input (one message) or a maildir folder." }

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        try await app.autoMigrate()
        guard let maildir = signature.maildir else {
            var data = Data()
            while let chunk = try FileHandle.standardInput.read(upToCount: 1 << 20), !chunk.isEmpty {
                data.append(chunk)
                guard data.count <= MailGateway.maxMessage + 1 else { break }
            }
            context.console.print(describe(try await MailGateway.receive(Array(data), app: app, now: Date())))
            return
        }
        var failures = 0
        repeat {
            failures += try await takeMaildir(maildir, app: app, console: context.console)
            if signature.watch { try await Task.sleep(nanoseconds: UInt64((signature.interval ?? 5) * 1_000_000_000)) }
        } while signature.watch && !Task.isCancelled
        if failures > 0 { throw AppError.conflict(code: "quarantined", reason: "\(failures) message(s) quarantined", field: nil) }
    }

    /// Takes every message in `new/`; returns how many went to quarantine. A message is moved to `cur/` only after it
    /// is stored (or quarantined), so a crash takes it again next time — and its Message-ID keeps it from landing twice.
    func takeMaildir(_ path: String, app: Application, console: any Console) async throws -> Int {
        let root = URL(fileURLWithPath: path, isDirectory: true)
        let new = root.appendingPathComponent("new"), cur = root.appendingPathComponent("cur")
        try FileManager.default.createDirectory(at: cur, withIntermediateDirectories: true)
        var failures = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: new.path).sorted() where !name.hasPrefix(".") {
            let file = new.appendingPathComponent(name)
            do {
                let outcome = try await MailGateway.receive(Array(try Data(contentsOf: file)), app: app, now: Date())
                console.print("\(name): \(describe(outcome))")
            } catch let error as MailGateway.Quarantined {
                console.error("\(name): \(error)")
                failures += 1
            }
            try FileManager.default.moveItem(at: file, to: cur.appendingPathComponent(name.contains(":2,") ? name : name + ":2,S"))
        }
        return failures
    }

    func describe(_ outcome: MailGateway.Outcome) -> String {
        switch outcome {
        case let .created(code): "new appeal \(code)"
        case let .added(code): "added to appeal \(code)"
        case let .duplicate(code): "already received (appeal \(code))"
        case let .ignored(file): "automatic mail, not answered, kept: \(file)"
        }
    }
}
