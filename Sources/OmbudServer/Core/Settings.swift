import Foundation
import OmbudDomain

/// Installation settings, read once from the environment.
public struct Settings: Sendable {
    public var dataDirectory: URL
    /// `postgres://…` selects PostgreSQL; otherwise SQLite in the data folder.
    public var databaseURL: String?
    public var attachmentLimit: Int
    public var timeZone: TimeZone
    public var deadlinePolicy: DeadlinePolicy
    /// Key of the business calendar whose non-working days move control dates.
    public var calendarKey: String
    public var sessionPolicy = SessionPolicy()
    /// Set when Ombud is served over HTTPS (directly or behind a proxy): session cookies are then `Secure`.
    public var secureCookies = false
    /// Behind a reverse proxy: take the client's address (for login throttling and the audit log) from the last
    /// `X-Forwarded-For` entry, which the proxy appends. Off by default: anyone could write that header.
    public var trustForwardedFor = false
    /// Whether `ombud serve` runs background jobs itself (`OMBUD_WORKER=off` when separate `ombud worker`s do).
    public var runWorker = true
    /// Domain login (LDAP), when configured.
    var directory: LDAPSettings?
    /// Outgoing mail; nil keeps notifications in the app.
    var smtp: SMTPSettings?
    /// The address citizens and integrators reach Ombud at (`OMBUD_PUBLIC_URL`), for links in mail and Open311 discovery.
    public var publicURL: String?
    /// Open311: the jurisdiction this endpoint serves (`OMBUD_OPEN311_JURISDICTION`); a request naming another is refused.
    public var open311Jurisdiction: String?
    /// Open311 discovery's contact line (`OMBUD_OPEN311_CONTACT`).
    public var open311Contact: String?
    /// Social networks, SMS and the repeat-contact radius.
    var channels = ChannelSettings()
    /// The staff map's base layer (`OMBUD_MAP_TILES`, an OpenStreetMap-style URL template); none draws points on a
    /// plain background.
    public var mapTiles: TileTemplate?
    /// Statistics from the in-memory copy of the appeals (`OMBUD_STATS_INDEX=off`: always from the database).
    public var statsIndex = true

    public init(dataDirectory: URL, databaseURL: String? = nil, attachmentLimit: Int = AttachmentRules.defaultLimit,
                timeZone: TimeZone = TimeZone(identifier: "Europe/Moscow")!, deadlinePolicy: DeadlinePolicy = .federalLaw59,
                calendarKey: String = "ru") {
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.attachmentLimit = attachmentLimit
        self.timeZone = timeZone
        self.deadlinePolicy = deadlinePolicy
        self.calendarKey = calendarKey
    }

    /// Mail to citizens (the portal's links, subscriptions) needs a mail server and the public address for its links:
    /// a link built from a request's `Host` header would let a sender point it anywhere.
    var portalMail: Bool { smtp != nil && publicURL != nil }

    /// The largest form a page may post: its files together up to the attachment limit, and the fields.
    var formBodyLimit: Int { attachmentLimit + 1024 * 1024 }

    public enum ConfigurationError: Error, CustomStringConvertible {
        case invalid(variable: String, value: String)
        case rejected(variable: String, reason: String)
        public var description: String {
            switch self {
            case let .invalid(variable, value): "invalid value \(value) for \(variable)"
            case let .rejected(variable, reason): "\(variable): \(reason)"
            }
        }
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> Settings {
        let dir = env["OMBUD_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "./var"
        var settings = Settings(dataDirectory: URL(fileURLWithPath: dir, isDirectory: true).standardizedFileURL)
        if let url = env["OMBUD_DATABASE_URL"], !url.isEmpty {
            guard url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") else {
                throw ConfigurationError.invalid(variable: "OMBUD_DATABASE_URL", value: url)
            }
            settings.databaseURL = url
        }
        if let limit = env["OMBUD_ATTACHMENT_LIMIT_MB"], !limit.isEmpty {
            guard let mb = Int(limit), mb > 0, mb <= 1024 else {
                throw ConfigurationError.invalid(variable: "OMBUD_ATTACHMENT_LIMIT_MB", value: limit)
            }
            settings.attachmentLimit = mb * 1024 * 1024
        }
        if let zone = env["OMBUD_TIMEZONE"], !zone.isEmpty {
            guard let tz = TimeZone(identifier: zone) else { throw ConfigurationError.invalid(variable: "OMBUD_TIMEZONE", value: zone) }
            settings.timeZone = tz
        }
        if let shift = env["OMBUD_CONTROL_DATE_SHIFT"], !shift.isEmpty {
            guard let rule = DeadlinePolicy.Shift(rawValue: shift) else {
                throw ConfigurationError.invalid(variable: "OMBUD_CONTROL_DATE_SHIFT", value: shift)
            }
            settings.deadlinePolicy.shift = rule
        }
        if let key = env["OMBUD_CALENDAR"], !key.isEmpty { settings.calendarKey = key }
        // Up to a day either way: the idle limit in minutes, the lifetime in hours.
        for (variable, keyPath, unit, most) in [("OMBUD_SESSION_IDLE_MINUTES", \SessionPolicy.idle, 60.0, 24 * 60),
                                                ("OMBUD_SESSION_HOURS", \SessionPolicy.lifetime, 3600.0, 24)] {
            guard let raw = env[variable], !raw.isEmpty else { continue }
            guard let n = Int(raw), n > 0, n <= most else { throw ConfigurationError.invalid(variable: variable, value: raw) }
            settings.sessionPolicy[keyPath: keyPath] = TimeInterval(n) * unit
        }
        if let url = env["OMBUD_PUBLIC_URL"], !url.isEmpty {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else {
                throw ConfigurationError.invalid(variable: "OMBUD_PUBLIC_URL", value: url)
            }
            settings.secureCookies = url.lowercased().hasPrefix("https://")
            settings.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
        settings.open311Jurisdiction = env["OMBUD_OPEN311_JURISDICTION"].flatMap { $0.isEmpty ? nil : $0 }
        settings.open311Contact = env["OMBUD_OPEN311_CONTACT"].flatMap { $0.isEmpty ? nil : $0 }
        if let raw = env["OMBUD_MAP_TILES"], !raw.isEmpty {
            guard let tiles = TileTemplate(raw) else { throw ConfigurationError.invalid(variable: "OMBUD_MAP_TILES", value: raw) }
            settings.mapTiles = tiles
        }
        settings.statsIndex = !["0", "off", "false", "no"].contains(env["OMBUD_STATS_INDEX"]?.lowercased() ?? "")
        settings.runWorker = !["0", "off", "false", "no"].contains(env["OMBUD_WORKER"]?.lowercased() ?? "")
        settings.trustForwardedFor = ["1", "true", "yes"].contains(env["OMBUD_TRUST_FORWARDED_FOR"]?.lowercased() ?? "")
        do throws(ValidationError) {
            settings.directory = try LDAPSettings.fromEnvironment(env)
            settings.smtp = try SMTPSettings.fromEnvironment(env)
            settings.channels = try ChannelSettings.fromEnvironment(env)
        } catch {
            throw ConfigurationError.rejected(variable: error.field, reason: error.reason)
        }
        return settings
    }

    public var sqliteFile: URL { dataDirectory.appendingPathComponent("ombud.sqlite") }
    public var attachmentsDirectory: URL { dataDirectory.appendingPathComponent("attachments", isDirectory: true) }
}
