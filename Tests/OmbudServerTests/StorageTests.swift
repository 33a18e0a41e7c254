import Fluent
import Foundation
import SQLKit
import Testing
import Vapor
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct StorageTests {
        @Test func sqliteRunsInWALModeWithForeignKeys() async throws {
            try await withOmbud { ctx, _ in
                let sql = ctx.app.db as! any SQLDatabase
                guard sql.dialect.name == "sqlite" else { return }
                let mode = try await sql.raw("PRAGMA journal_mode").first()?.decode(column: "journal_mode", as: String.self)
                #expect(mode == "wal")
                let keys = try await sql.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self)
                #expect(keys == 1)
                #expect(FileManager.default.fileExists(atPath: ctx.settings.sqliteFile.path))
            }
        }

        @Test func foreignKeysRefuseOrphans() async throws {
            try await withOmbud { ctx, _ in
                let question = Question()
                question.$appeal.id = UUID()
                question.position = 1
                question.topicCode = "0005.0005.0056.1168"
                question.text = ""
                question.status = "open"
                question.createdAt = Date()
                question.updatedAt = Date()
                await #expect(throws: (any Error).self) { try await question.create(on: ctx.app.db) }
            }
        }

        @Test func migrationsRevertAndReapply() async throws {
            try await withOmbud { ctx, _ in
                try await ctx.app.autoRevert()
                try await ctx.app.autoMigrate()
                #expect(try await Appeal.query(on: ctx.app.db).count() == 0)
            }
        }
    }
}
