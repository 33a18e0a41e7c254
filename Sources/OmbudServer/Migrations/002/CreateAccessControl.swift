import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// Roles as data (seeded with the shipped defaults) and the append-only audit log.
struct CreateAccessControl: AsyncMigration {
    func prepare(on db: any Database) async throws {
        try await db.schema("roles").id()
            .field("key", .string, .required).unique(on: "key")
            .field("name", .string, .required)
            .field("permissions", .array(of: .string), .required)
            .field("is_builtin", .bool, .required)
            .field("is_active", .bool, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        let now = Date()
        for role in RoleDefinition.shipped {
            try await RoleRecord(role, builtin: true, now: now).create(on: db)
        }

        try await db.schema("audit_log").id()
            .field("at", .datetime, .required)
            .field("actor_id", .uuid)
            .field("actor", .string, .required)
            .field("action", .string, .required)
            .field("entity", .string)
            .field("entity_id", .string)
            .field("address", .string)
            .field("details", .string)
            .create()
        let sql = db as! any SQLDatabase
        try await sql.create(index: "idx_audit_at").on("audit_log").column("at").run()
        try await sql.create(index: "idx_audit_actor").on("audit_log").column("actor").column("at").run()
        // Append-only in the database itself, whatever code or tool connects: no UPDATE, no DELETE.
        if sql.dialect.name == "sqlite" {
            for verb in ["UPDATE", "DELETE"] {
                try await sql.raw("""
                    CREATE TRIGGER audit_log_no_\(unsafeRaw: verb.lowercased()) BEFORE \(unsafeRaw: verb) ON audit_log
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
                    """).run()
            }
        } else {
            try await sql.raw("""
                CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$
                """).run()
            try await sql.raw("""
                CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
                FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()
                """).run()
        }
    }

    func revert(on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        if sql.dialect.name != "sqlite" {
            try await sql.raw("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log").run()
            try await sql.raw("DROP FUNCTION IF EXISTS audit_log_append_only()").run()
        }
        try await db.schema("audit_log").delete()
        try await db.schema("roles").delete()
    }
}
