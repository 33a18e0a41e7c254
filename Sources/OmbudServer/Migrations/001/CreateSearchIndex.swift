import Fluent
import SQLKit

/// 001: the full-text index. Documents are normalised and stemmed in Swift (TextNormalizer), so both engines index
/// the same tokens: an FTS5 table on SQLite, a GIN index over a `simple` tsvector on PostgreSQL.
/// On SQLite the index is contentless and keyed by the appeal's rowid, so that a search walks the index newest
/// first and stops at the page size instead of sorting every match.
struct CreateSearchIndex: AsyncMigration {
    var name: String { "001_CreateSearchIndex" }

    func prepare(on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            try await sql.raw("CREATE VIRTUAL TABLE appeal_search USING fts5(body, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0')").run()
            // Triggers keep the index in step with appeals.search_text, whichever code path writes it.
            try await sql.raw("""
                CREATE TRIGGER appeals_search_insert AFTER INSERT ON appeals BEGIN
                  INSERT INTO appeal_search (rowid, body) VALUES (new.rowid, new.search_text);
                END
                """).run()
            try await sql.raw("""
                CREATE TRIGGER appeals_search_update AFTER UPDATE OF search_text ON appeals BEGIN
                  DELETE FROM appeal_search WHERE rowid = old.rowid;
                  INSERT INTO appeal_search (rowid, body) VALUES (new.rowid, new.search_text);
                END
                """).run()
            try await sql.raw("CREATE VIRTUAL TABLE topic_search USING fts5(code UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 0')").run()
        } else {
            // A stored vector: a filter or a recheck reads it instead of re-parsing the text of every row it passes.
            try await sql.raw("ALTER TABLE appeals ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED").run()
            try await sql.raw("CREATE INDEX idx_appeals_search ON appeals USING GIN (search_vector)").run()
            try await sql.raw("CREATE INDEX idx_topics_search ON topics USING GIN (to_tsvector('simple', search_text))").run()
        }
    }

    func revert(on db: any Database) async throws {
        let sql = db as! any SQLDatabase
        if sql.dialect.name == "sqlite" {
            try await sql.raw("DROP TRIGGER appeals_search_update").run()
            try await sql.raw("DROP TRIGGER appeals_search_insert").run()
            try await sql.raw("DROP TABLE appeal_search").run()
            try await sql.raw("DROP TABLE topic_search").run()
        } else {
            try await sql.raw("DROP INDEX idx_appeals_search").run()
            try await sql.raw("ALTER TABLE appeals DROP COLUMN search_vector").run()
            try await sql.raw("DROP INDEX idx_topics_search").run()
        }
    }
}
