import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// `GET /api/v1/stats` (figures grouped by up to two dimensions, as JSON, CSV or XLSX) and `GET /api/v1/stats/grid`
/// (counts per square cell, for the map). Both read the appeals the caller may see, filtered like the list, and
/// show no personal data.
struct StatsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let stats = routes.grouped("stats").grouped(Require(.statsRead))
        stats.get(use: table)
        stats.get("grid", use: grid)
    }

    struct Query: Content {
        var groupBy: String?
        var measures: String?
        var from: String?
        var to: String?
    }

    /// The list's filters with `from`/`to` for the days of receipt (named so in errors).
    static func filters(_ req: Request, _ query: Query) throws -> AppealList.Filters {
        var filters = try req.query.decode(AppealList.Filters.self)
        for (value, field) in [(query.from, "from"), (query.to, "to")] {
            if let value = value.nonBlank, CivilDate(iso: value) == nil { throw AppError.invalid(field: field, reason: "expected YYYY-MM-DD") }
        }
        filters.receivedFrom = query.from.nonBlank ?? filters.receivedFrom
        filters.receivedTo = query.to.nonBlank ?? filters.receivedTo
        if let from = filters.receivedFrom.flatMap(CivilDate.init(iso:)), let to = filters.receivedTo.flatMap(CivilDate.init(iso:)), to < from {
            throw AppError.invalid(field: "to", reason: "is before from")
        }
        filters.q = filters.q.nonBlank
        return filters
    }

    func table(req: Request) async throws -> Response {
        let query = try req.query.decode(Query.self)
        let spec: StatsSpec
        do { spec = try StatsSpec.parse(groupBy: query.groupBy, measures: query.measures) } catch { throw error.appError }
        let format = try ListExports.format(req)
        let result = try await StatsQuery.asked(by: req, spec, try Self.filters(req, query)).run(on: req)
        let view = try await StatsTableView.make(result, spec: spec, req: req)
        guard let format else { return try await view.encodeResponse(for: req) }
        let writer = try TableWriter(format: format, sheetName: req.text("stats", "title"), header: view.header(req: req), zone: req.settings.timeZone)
        for row in view.cells(totalName: req.text("stats", "total")) { try writer.append(row) }
        try await req.audit("stats.export", details: "\(spec.groupBy.map(\.description).joined(separator: ",")) \(format.rawValue)")
        return try await TableWriter.response(try writer.finish(), format: format, fileName: "ombud-stats.\(format.rawValue)", for: req)
    }

    struct GridQuery: Content {
        var bbox: String?
        var cell: Double?
    }

    struct GridCell: Content, Equatable {
        var lat: Double
        var lon: Double
        var count: Int
        var overdue: Int
    }

    struct Grid: Content {
        var cell: Double
        var cells: [GridCell]
    }

    func grid(req: Request) async throws -> Grid {
        let query = try req.query.decode(GridQuery.self)
        guard let raw = query.bbox.nonBlank else { throw AppError.invalid(field: "bbox", reason: "is required: minLon,minLat,maxLon,maxLat") }
        let cells: MapGrid
        do { cells = try MapGrid(box: try MapGrid.Box(parsing: raw), meters: query.cell ?? 500) } catch { throw error.appError }
        return Grid(cell: cells.meters, cells: try await Self.cells(cells, filters: try Self.filters(req, try req.query.decode(Query.self)), req: req))
    }

    /// The appeals with a point in each cell of the grid, within the caller's scope and the filters; most first.
    static func cells(_ cells: MapGrid, filters: AppealList.Filters, req: Request) async throws -> [GridCell] {
        let question = try await StatsQuery.asked(by: req, StatsSpec(groupBy: [], measures: [.count]), filters)
        if await req.application.ombud.stats.isReady(req.db), let query = try await question.factsQuery(db: req.db),
           let counted = await req.application.ombud.stats.grid(query, cells: cells, db: req.db) {
            return sorted(counted.map { cell in
                let (lat, lon) = cells.center(y: cell.y, x: cell.x)
                return GridCell(lat: lat, lon: lon, count: cell.count, overdue: cell.overdue)
            })
        }
        let box = cells.box
        let sql = req.store.sql
        let today = CivilDate.of(req.now, in: req.settings.timeZone)
        // Points inside the box only, so the cell numbers are never negative and SQLite's CAST truncates like FLOOR.
        func index(_ column: String, _ origin: Double, _ step: Double) -> SQLQueryString {
            sql.dialect.name == "sqlite"
                ? "CAST((appeals.\(unsafeRaw: column) - \(literal: origin)) / \(literal: step) AS INTEGER)"
                : "CAST(FLOOR((appeals.\(unsafeRaw: column) - \(literal: origin)) / \(literal: step)) AS INTEGER)"
        }
        let offsets = try await StatsQuery.offsets(sql, zone: req.settings.timeZone, now: req.now)
        let closedDay = StatsQuery.localDay("appeals.closed_at", dialect: sql.dialect.name, zone: req.settings.timeZone, spans: offsets)
        var select = sql.select()
            .column(index("lat", box.minLat, cells.latStep), as: "y")
            .column(index("lon", box.minLon, cells.lonStep), as: "x")
            .column(SQLRaw("COUNT(*)"), as: "n")
            .column(SQLQueryString("SUM(CASE WHEN \(StatsQuery.overdueSQL(today: today, closedDay: closedDay)) THEN 1 ELSE 0 END)"), as: "late")
            .from("appeals")
            .where(AppealList.inside(box))
        select = try await StatsQuery.filtered(select, filters, scope: question.scope, settings: req.settings, today: today, sql: sql)
        let rows = try await select.groupBy("y").groupBy("x").all()
        return sorted(try rows.map { row in
            let (lat, lon) = cells.center(y: try row.decode(column: "y", as: Int.self), x: try row.decode(column: "x", as: Int.self))
            return GridCell(lat: lat, lon: lon, count: try row.decode(column: "n", as: Int.self), overdue: try row.decode(column: "late", as: Int?.self) ?? 0)
        })
    }

    /// Most first; then from the south-west, so equal counts keep one order.
    private static func sorted(_ cells: [GridCell]) -> [GridCell] {
        cells.sorted { a, b in a.count != b.count ? a.count > b.count : (a.lat, a.lon) < (b.lat, b.lon) }
    }
}
