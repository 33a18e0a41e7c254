import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import SQLKit
import Vapor

/// Wires storage, middleware and routes. `ombud`, the tests and the benchmark all start here.
public func configure(_ app: Application, settings: Settings) async throws {
    try FileManager.default.createDirectory(at: settings.dataDirectory, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: settings.attachmentsDirectory, withIntermediateDirectories: true)

    if let url = settings.databaseURL {
        app.databases.use(try .postgres(url: url, maxConnectionsPerEventLoop: 8), as: .psql)
        let references = ReferenceCache()
        let intake = IntakeQueue { [unowned app] batch in
            try await DatabaseOutage.bounded(20) { try await app.db.transaction { db in try await IntakeWriter.write(batch, db: db) } }
        }
        let store = Store(db: app.db, gate: nil, references: references)
        app.ombud = OmbudContext(settings: settings, gate: nil, writer: nil, intake: intake, audit: Audit.queue(store), references: references,
                                  stats: StatsIndex(zone: settings.timeZone, enabled: settings.statsIndex, logger: app.logger))
    } else {
        app.databases.use(.sqlite(.file(settings.sqliteFile.path), maxConnectionsPerEventLoop: 2), as: .sqlite)
        let gate = WriteGate()
        let references = ReferenceCache()
        // WAL is a property of the file: set once, every later connection uses it. Foreign keys are on per connection
        // (SQLiteConfiguration's default); synchronous stays FULL so a commit is on disk before we answer.
        try await (app.db as! any SQLDatabase).raw("PRAGMA journal_mode=WAL").run()
        let writer = try SQLiteWriter(path: settings.sqliteFile.path)
        app.lifecycle.use(SQLiteWriterLifecycle(writer: writer))
        let intake = IntakeQueue { batch in
            try await gate.locked { try await writer.transaction { try IntakeWriter.write(batch, connection: $0) } }
        }
        let store = Store(db: app.db, gate: gate, references: references)
        app.ombud = OmbudContext(settings: settings, gate: gate, writer: writer, intake: intake, audit: Audit.queue(store), references: references,
                                  stats: StatsIndex(zone: settings.timeZone, enabled: settings.statsIndex, logger: app.logger))
    }

    app.migrations.add(CreateSchema())
    app.migrations.add(CreateSearchIndex())
    app.migrations.add(CreateAccessControl())
    app.migrations.add(CreateSessions())
    app.migrations.add(CreateCalendars())
    app.migrations.add(CreateJobs())
    app.migrations.add(CreateDeadlineControl())
    app.migrations.add(CreateFormSubmissions())
    app.migrations.add(AddApplicantMerge())
    app.migrations.add(CreatePortal())
    app.migrations.add(CreateCorrespondence())
    app.migrations.add(AddChannelThreads())
    app.migrations.add(Hardening())
    app.migrations.add(Statistics())
    app.migrations.add(SavedReports())
    app.migrations.add(AppealChanges())
    app.migrations.add(OperatorDay())
    app.jobHandlers.register(Housekeeping.kind, Housekeeping.run)
    app.jobHandlers.register(MailJob.kind, MailJob.run)
    app.jobHandlers.register(ReportMail.kind, ReportMail.run)
    app.jobHandlers.register(PortalMail.kind, PortalMail.run)
    app.jobHandlers.register(PortalDigest.kind, PortalDigest.run)
    app.jobHandlers.register(ReplyJob.kind, ReplyJob.run)
    app.jobHandlers.register(ChannelFiles.kind, ChannelFiles.run)
    app.jobHandlers.register(ChannelNotice.kind, ChannelNotice.run)
    app.jobHandlers.register(ChannelProfile.kind, ChannelProfile.run)
    app.channelThreads = KeyedSerializer()
    // Files from the networks are fetched from the address checked and nowhere else: redirects are not followed.
    app.http.client.configuration.redirectConfiguration = .disallow
    app.pages = try await Pages.load()

    ContentConfiguration.global.use(encoder: APIJSONEncoder(fallback: JSONCoding.encoder), for: .json)
    try NULGuard.install(json: JSONCoding.decoder)
    app.middleware = Middlewares()
    app.middleware.use(SecurityHeadersMiddleware(hsts: settings.publicURL?.lowercased().hasPrefix("https://") == true))
    app.middleware.use(APIErrorMiddleware())
    app.middleware.use(NULGuard())
    app.routes.defaultMaxBodySize = "1mb"

    try routes(app, settings: settings)
    app.middleware.use(MethodNotAllowedMiddleware(routes: app.routes))  // after the routes: it reads their table
    await registerCommands(app)
}

func routes(_ app: Application, settings: Settings) throws {
    app.get("health") { _ in "ok" }
    app.get("api", "openapi.yaml") { req async throws -> Response in
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources") else {
            throw Abort(.notFound)
        }
        let response = Response(status: .ok, body: .init(data: try Data(contentsOf: url)))
        response.headers.contentType = HTTPMediaType(type: "application", subType: "yaml")
        return response
    }
    try app.register(collection: try Assets.load())
    let pages = app.grouped(PageErrorMiddleware(), SessionAuthenticator())
    try pages.register(collection: SessionPages())
    try pages.register(collection: AppealPages(bodyLimit: settings.formBodyLimit))
    try pages.register(collection: IntakePages(bodyLimit: settings.formBodyLimit))
    try pages.register(collection: TaskPages())
    try pages.register(collection: SearchPages())
    try pages.register(collection: ApplicantPages())
    try pages.register(collection: AdminPages(bodyLimit: settings.formBodyLimit))
    try pages.register(collection: Open311AdminPages())
    try pages.register(collection: ChannelAdminPages())
    try pages.register(collection: DashboardPages())
    try pages.register(collection: MapPages())
    try pages.register(collection: ReportPages())
    try pages.register(collection: StatutoryReportPages())

    try app.register(collection: Open311Controller())
    try app.register(collection: PortalPages(bodyLimit: settings.formBodyLimit))
    try app.register(collection: ChannelWebhooks())

    let api = app.grouped("api", "v1").grouped(BearerAuthenticator(), SessionAuthenticator(), SignedIn())
    try api.register(collection: AppealsController())
    try api.register(collection: ApplicantsController())
    try api.register(collection: TopicsController())
    try api.register(collection: OrgUnitsController())
    try api.register(collection: AttachmentsController(limit: settings.attachmentLimit))
    try api.register(collection: AccessAdminController())
    try api.register(collection: AuditController())
    try api.register(collection: AccountController())
    try api.register(collection: CalendarsController())
    try api.register(collection: JobsController())
    try api.register(collection: TasksController())
    try api.register(collection: PromisesController())
    try api.register(collection: NotificationsController())
    try api.register(collection: WorkflowController())
    try api.register(collection: StatsController())
    try api.register(collection: ReportsController())
}
