import AsyncKit
import PostgresNIO
import SQLiteNIO
import Vapor

/// Errors that mean "the database cannot be reached now" (a PostgreSQL restart, a lost connection, a pool that
/// cannot connect, SQLite's file locked past its timeout): not a fault of the request nor of Ombud. They answer 503
/// with `Retry-After`; nothing was committed (the error came before the commit), and the pool reconnects by itself.
enum DatabaseOutage {
    static let retryAfter = 5

    static func matches(_ error: any Error) -> Bool {
        switch error {
        case let error as PSQLError:
            switch error.code {
            case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                // 08: connection exceptions; 57P: the server shutting down or starting; 53300: too many connections.
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300"
            default:
                return false
            }
        case let error as SQLiteError:
            return [.busy, .locked].contains(error.reason)
        case is ConnectionPoolTimeoutError, is ConnectionPoolError:
            return true
        default:
            return false
        }
    }
}
