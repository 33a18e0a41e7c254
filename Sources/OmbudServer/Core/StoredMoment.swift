import Foundation
import SQLKit

/// A moment exactly as the database holds it, for keyset paging. A `Date` read back is not the one written: SQLite
/// keeps the REAL that was written but SQLiteNIO rounds what it reads to microseconds, and PostgresNIO truncates a
/// `Date` to whole microseconds when it writes one, so a date read and bound again can lose a microsecond. A cursor
/// that carried a `Date` repeated its last row (SQLite) or skipped rows sharing a time (PostgreSQL). This carries the
/// stored value itself: SQLite's REAL, PostgreSQL's microseconds since 2000.
struct StoredMoment: Sendable, Equatable {
    /// `s<REAL>` or `p<microseconds>`.
    let raw: String

    private static let pgEpoch = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"

    /// The column `column` (trusted SQL: a column name, possibly qualified) as its stored value, named `alias`.
    static func select(_ column: String, as alias: String, dialect: String) -> SQLQueryString {
        dialect == "sqlite"
            ? "\(unsafeRaw: column) AS \(ident: alias)"
            : "CAST(EXTRACT(EPOCH FROM (\(unsafeRaw: column) - \(unsafeRaw: pgEpoch))) * 1000000 AS BIGINT) AS \(ident: alias)"
    }

    static func read(_ row: any SQLRow, column: String, dialect: String) throws -> StoredMoment {
        dialect == "sqlite"
            ? StoredMoment(raw: "s" + String(try row.decode(column: column, as: Double.self)))
            : StoredMoment(raw: "p" + String(try row.decode(column: column, as: Int64.self)))
    }

    init(raw: String) { self.raw = raw }

    /// Parses what `raw` wrote; nil for anything else (or for a value of the other database).
    init?(parsing text: String, dialect: String) {
        if dialect == "sqlite", text.hasPrefix("s"), let value = Double(text.dropFirst()), value.isFinite, abs(value) < 1e11 {
            raw = text
        } else if dialect != "sqlite", text.hasPrefix("p"), let micro = Int64(text.dropFirst()), abs(micro) < 10_000_000_000_000_000 {
            raw = text
        } else {
            return nil
        }
    }

    /// An expression equal to the stored value, to compare the column with (`column < moment.value`); it leaves the
    /// column bare, so its index serves the comparison.
    var value: SQLQueryString {
        let number = raw.dropFirst()
        if raw.hasPrefix("s") { return "\(bind: Double(number) ?? 0)" }
        return "(\(unsafeRaw: Self.pgEpoch) + \(bind: Int64(number) ?? 0) * INTERVAL '1 microsecond')"
    }
}
