import Fluent
import SQLKit

/// 015, the log of changed appeals the in-memory statistics follow (`StatsIndex`): triggers on `appeals`, `questions`
/// and `appeal_ratings` append the appeal's id in the writing transaction, so no code path can change an appeal
/// without the statistics seeing it. The worker keeps the newest `StatsIndex.kept` entries.
struct AppealChanges: AsyncMigration {
    /// Each table and how its rows name their appeal.
    static let sources = [("appeals", "id"), ("questions", "appeal_id"), ("appeal_ratings", "appeal_id")]

    func prepare(on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            try await sql.raw("CREATE TABLE appeal_changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, appeal_id BLOB NOT NULL)").run()
            for (table, column) in Self.sources {
                for (event, rows) in [("INSERT", ["new"]), ("UPDATE", table == "appeals" ? ["new"] : ["new", "old"]), ("DELETE", ["old"])] {
                    let values = rows.map { "SELECT \($0).\(column)" }.joined(separator: " UNION ")
                    try await sql.raw("""
                        CREATE TRIGGER \(unsafeRaw: table)_changes_\(unsafeRaw: event.lowercased()) AFTER \(unsafeRaw: event) ON \(unsafeRaw: table) \
                        BEGIN INSERT INTO appeal_changes (appeal_id) \(unsafeRaw: values); END
                        """).run()
                }
            }
        } else {
            try await sql.raw("CREATE TABLE appeal_changes (seq BIGSERIAL PRIMARY KEY, appeal_id UUID NOT NULL)").run()
            // Statement-level triggers with transition tables: an import's multi-row INSERT logs in one statement.
            for (table, column) in Self.sources {
                try await sql.raw("""
                    CREATE FUNCTION \(unsafeRaw: table)_changes() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                      IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' THEN
                        INSERT INTO appeal_changes (appeal_id) SELECT DISTINCT \(unsafeRaw: column) FROM new_rows;
                      END IF;
                      IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND TG_TABLE_NAME <> 'appeals') THEN
                        INSERT INTO appeal_changes (appeal_id) SELECT DISTINCT \(unsafeRaw: column) FROM old_rows;
                      END IF;
                      RETURN NULL;
                    END $$
                    """).run()
                // An appeal keeps its id: its updates need only the new rows (kept old rows would be a copy of each).
                let updated = table == "appeals" ? "NEW TABLE AS new_rows" : "OLD TABLE AS old_rows NEW TABLE AS new_rows"
                for (event, referencing) in [("INSERT", "NEW TABLE AS new_rows"), ("UPDATE", updated), ("DELETE", "OLD TABLE AS old_rows")] {
                    try await sql.raw("""
                        CREATE TRIGGER \(unsafeRaw: table)_changes_\(unsafeRaw: event.lowercased()) AFTER \(unsafeRaw: event) ON \(unsafeRaw: table) \
                        REFERENCING \(unsafeRaw: referencing) FOR EACH STATEMENT EXECUTE FUNCTION \(unsafeRaw: table)_changes()
                        """).run()
                }
            }
        }
    }

    func revert(on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        for (table, _) in Self.sources {
            for event in ["insert", "update", "delete"] {
                try await sql.raw(sql.dialect.name == "sqlite" ? "DROP TRIGGER \(unsafeRaw: table)_changes_\(unsafeRaw: event)"
                                  : "DROP TRIGGER \(unsafeRaw: table)_changes_\(unsafeRaw: event) ON \(unsafeRaw: table)").run()
            }
            if sql.dialect.name != "sqlite" { try await sql.raw("DROP FUNCTION \(unsafeRaw: table)_changes()").run() }
        }
        try await sql.raw("DROP TABLE appeal_changes").run()
    }
}
