import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Vapor

/// `/map`: where the appeals the reader may see come from, as clusters (a circle per cell, sized and numbered by its
/// appeals) or as a hotspot grid (cells shaded by their appeals), coloured by how many are overdue, over the tiles
/// of `OMBUD_MAP_TILES` or a plain background. Filtered by period, topic, status and overdue; zoomed and panned by
/// links; a click on a cell lists its appeals under the map. Server-drawn SVG: it works without JavaScript.
struct MapPages: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.grouped(PageGuard(), RememberLanguage()).grouped(Require(.statsRead)).get("map", use: map)
    }

    struct Form: Content {
        var from: String?
        var to: String?
        var topic: String?
        var status: String?
        var overdue: String?
        var bbox: String?
        var view: String?
        /// The cell whose appeals are listed, as a box.
        var pick: String?
    }

    func map(req: Request) async throws -> Response {
        let form = (try? req.query.decode(Form.self)) ?? Form()
        var errors: [String: String] = [:]
        var filters = AppealList.Filters()
        filters.status = form.status.nonBlank
        filters.topic = form.topic.nonBlank.map(TextNormalizer.latinDigits)
        filters.overdue = form.overdue.nonBlank == nil ? nil : true
        for (value, field) in [(form.from, "from"), (form.to, "to")] where value.nonBlank != nil && CivilDate(iso: value ?? "") == nil {
            errors[field] = req.message(AppError.invalid(field: field, reason: "expected YYYY-MM-DD"))
        }
        if errors.isEmpty {
            filters.receivedFrom = form.from.nonBlank
            filters.receivedTo = form.to.nonBlank
        }
        let clusters = form.view != "grid"
        var box: MapGrid.Box?
        if let raw = form.bbox.nonBlank {
            do { box = try MapGrid.Box(parsing: raw) } catch { errors["bbox"] = req.message(error.appError) }
        }
        var cells: [StatsController.GridCell] = []
        var grid: MapGrid?
        var picked: [[String: Any]] = []
        var pickedBox: MapGrid.Box?
        do {
            if box == nil { box = try await Self.extent(filters, req: req) }
            let shown = box ?? MapGrid.Box.world
            // Clusters gather a few large cells, each numbered; the hotspot grid shades many small ones.
            grid = try MapGrid(box: shown, meters: MapView.cellMeters(for: shown, across: clusters ? 14 : 40))
            if let grid { cells = try await StatsController.cells(grid, filters: filters, req: req) }
            if let raw = form.pick.nonBlank, let pick = try? MapGrid.Box(parsing: raw), try req.actor.can(.appealsRead) {
                pickedBox = pick
                var inCell = filters
                inCell.bbox = raw
                inCell.limit = 20
                let page = try await AppealList.page(inCell, scope: try await req.appealCondition(), personal: try req.actor.can(.personalData),
                                                     hidden: req.hiddenMark, settings: req.settings, db: req.db, now: req.now)
                picked = page.items.map { item in
                    let row: [String: Any?] = [
                        "code": item.trackingCode, "status": req.text("states", item.status), "statusKey": item.status,
                        "received": req.format.date(item.receivedAt), "overdue": item.overdue, "district": item.district,
                        "text": String(item.excerpt.prefix(160)),
                    ]
                    return row.present
                }
            }
        } catch let error as AppError where error.field != nil {
            errors[error.field ?? "bbox"] = req.message(error)
        }
        let shown = box ?? MapGrid.Box.world
        let view = MapView(box: shown)
        let query = Self.query(form)
        func link(_ changes: [String: String?]) -> String {
            var items = query
            for (key, value) in changes { items[key] = value }
            var components = URLComponents()
            components.queryItems = items.sorted { $0.key < $1.key }.compactMap { key, value in value.map { URLQueryItem(name: key, value: $0) } }
            return "/map" + (components.string ?? "")
        }
        let most = Double(cells.map(\.count).max() ?? 1)
        let f = req.format
        let drawn: [[String: Any]] = grid.map { grid in
            cells.map { cell in
                // The cell's corners on the drawing, and its circle: the area grows with the count.
                let (x0, y0) = view.point(lat: cell.lat + grid.latStep / 2, lon: cell.lon - grid.lonStep / 2)
                let (x1, y1) = view.point(lat: cell.lat - grid.latStep / 2, lon: cell.lon + grid.lonStep / 2)
                let (cx, cy) = view.point(lat: cell.lat, lon: cell.lon)
                let side = max(min(x1 - x0, y1 - y0), 2)
                let radius = max(4, sqrt(Double(cell.count) / most) * side * 0.55)
                let digits = Double(String(cell.count).count)
                let share = Double(cell.overdue) / Double(max(cell.count, 1))
                let text = Self.box(of: cell, in: grid)
                return [
                    "x": Self.n(x0), "y": Self.n(y0), "w": Self.n(max(x1 - x0, 1)), "h": Self.n(max(y1 - y0, 1)),
                    "cx": Self.n(cx), "cy": Self.n(cy), "r": Self.n(radius), "label": radius >= 6 + 3.5 * digits ? f.number(String(cell.count)) : "",
                    "level": share == 0 ? "ok" : share < 0.25 ? "some" : "many",
                    "shade": Self.n(0.15 + 0.75 * log(1 + Double(cell.count)) / log(1 + most)),
                    "title": req.text("map", "cell", ["count": cell.count, "overdue": cell.overdue]),
                    "href": link(["pick": text]) + "#picked", "current": text == form.pick,
                ]
            }
        } ?? []
        let tiles = req.settings.mapTiles.map { template in
            view.tiles.map { tile in ["href": template.url(tile), "x": Self.n(tile.left), "y": Self.n(tile.top)] }
        } ?? []
        let total = cells.reduce(0) { $0 + $1.count }
        let overdue = cells.reduce(0) { $0 + $1.overdue }
        var context: [String: Any?] = [
            "width": Self.n(view.width), "height": Self.n(view.height), "cells": drawn, "tiles": tiles, "hasTiles": !tiles.isEmpty,
            "tileOrigin": req.settings.mapTiles?.origin, "clusters": clusters,
            "total": req.text("map", "total", ["count": total, "overdue": overdue]),
            "cellSize": req.text("map", "cellSize", ["meters": Int(grid?.meters ?? 0)]),
            "empty": total == 0,
            "filtersOpen": !errors.isEmpty || [form.from, form.to, form.topic, form.status, form.overdue].contains { $0.nonBlank != nil },
            "zoom": [
                ["label": "+", "title": req.text("map", "zoomIn"), "href": link(["bbox": MapView.text(MapView.zoomed(shown, by: 0.5)), "pick": nil])],
                ["label": "−", "title": req.text("map", "zoomOut"), "href": link(["bbox": MapView.text(MapView.zoomed(shown, by: 2)), "pick": nil])],
                ["label": "↑", "title": req.text("map", "north"), "href": link(["bbox": MapView.text(MapView.panned(shown, east: 0, north: 0.5)), "pick": nil])],
                ["label": "↓", "title": req.text("map", "south"), "href": link(["bbox": MapView.text(MapView.panned(shown, east: 0, north: -0.5)), "pick": nil])],
                ["label": "←", "title": req.text("map", "west"), "href": link(["bbox": MapView.text(MapView.panned(shown, east: -0.5, north: 0)), "pick": nil])],
                ["label": "→", "title": req.text("map", "east"), "href": link(["bbox": MapView.text(MapView.panned(shown, east: 0.5, north: 0)), "pick": nil])],
                ["label": "⤢", "title": req.text("map", "fitAll"), "href": link(["bbox": nil, "pick": nil])],
            ],
            "views": [
                ["label": req.text("map", "clusters"), "href": link(["view": nil]), "current": clusters],
                ["label": req.text("map", "grid"), "href": link(["view": "grid"]), "current": !clusters],
            ],
            "form": [
                "from": form.from ?? "", "to": form.to ?? "", "topic": form.topic ?? "", "overdue": filters.overdue == true,
                "bbox": box.map(MapView.text) ?? "", "view": clusters ? "" : "grid",
                "statuses": AppealTransitions.workflow.states.map { ["value": $0.key, "label": req.text("states", $0.key), "selected": $0.key == form.status] },
                "fromError": errors["from"], "toError": errors["to"], "topicError": errors["topic"], "statusError": errors["status"],
                "bboxError": errors["bbox"],
            ].present,
        ]
        if let pickedBox {
            let count = grid.flatMap { grid in cells.first { Self.box(of: $0, in: grid) == form.pick }?.count } ?? picked.count
            context["picked"] = [
                "rows": picked, "count": req.text("map", "pickedCount", ["count": count, "shown": picked.count]), "hasRows": !picked.isEmpty,
                "zoomHere": link(["bbox": MapView.text(MapView.zoomed(pickedBox, by: 3)), "pick": nil]),
                "download": try req.actor.can(.export) ? Self.download(filters, box: pickedBox) : nil,
            ].present
        }
        let response = req.page("map", context.present, status: errors.isEmpty ? .ok : .unprocessableEntity)
        if let origin = req.settings.mapTiles?.origin {
            response.headers.replaceOrAdd(name: "Content-Security-Policy",
                                          value: "default-src 'self'; img-src 'self' \(origin); style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
        }
        return response
    }

    /// The box around every appeal with a point that the reader may see under these filters (nil when none has one).
    static func extent(_ filters: AppealList.Filters, req: Request) async throws -> MapGrid.Box? {
        let question = try await StatsQuery.asked(by: req, StatsSpec(groupBy: [], measures: [.count]), filters)
        if await req.application.ombud.stats.isReady(req.db), let query = try await question.factsQuery(db: req.db),
           let found = await req.application.ombud.stats.extent(query, db: req.db) {
            return found.map { MapView.around(minLat: $0.minLat, minLon: $0.minLon, maxLat: $0.maxLat, maxLon: $0.maxLon) }
        }
        let sql = req.store.sql
        var select = sql.select()
            .column(SQLRaw("MIN(appeals.lat)"), as: "s").column(SQLRaw("MAX(appeals.lat)"), as: "n")
            .column(SQLRaw("MIN(appeals.lon)"), as: "w").column(SQLRaw("MAX(appeals.lon)"), as: "e")
            .from("appeals").where(SQLRaw("appeals.lat IS NOT NULL AND appeals.lon IS NOT NULL"))
        select = try await StatsQuery.filtered(select, filters, scope: question.scope, settings: req.settings,
                                               today: CivilDate.of(req.now, in: req.settings.timeZone), sql: sql)
        guard let row = try await select.first(), let s = try row.decode(column: "s", as: Double?.self), let n = try row.decode(column: "n", as: Double?.self),
              let w = try row.decode(column: "w", as: Double?.self), let e = try row.decode(column: "e", as: Double?.self) else { return nil }
        return MapView.around(minLat: s, minLon: w, maxLat: n, maxLon: e)
    }

    /// A cell of the grid as the `bbox` of its appeals.
    static func box(of cell: StatsController.GridCell, in grid: MapGrid) -> String {
        MapView.text(MapGrid.Box(minLon: cell.lon - grid.lonStep / 2, minLat: cell.lat - grid.latStep / 2,
                                 maxLon: cell.lon + grid.lonStep / 2, maxLat: cell.lat + grid.latStep / 2))
    }

    /// The page's own parameters, to build its links from.
    static func query(_ form: Form) -> [String: String?] {
        ["from": form.from.nonBlank, "to": form.to.nonBlank, "topic": form.topic.nonBlank, "status": form.status.nonBlank,
         "overdue": form.overdue.nonBlank, "bbox": form.bbox.nonBlank, "view": form.view.nonBlank, "pick": form.pick.nonBlank]
    }

    /// The list download of the appeals in a cell, with the map's filters.
    static func download(_ filters: AppealList.Filters, box: MapGrid.Box) -> String {
        var items = [URLQueryItem(name: "bbox", value: MapView.text(box))]
        for (name, value) in [("status", filters.status), ("topic", filters.topic), ("receivedFrom", filters.receivedFrom),
                              ("receivedTo", filters.receivedTo), ("overdue", filters.overdue.map { String($0) })] {
            if let value { items.append(URLQueryItem(name: name, value: value)) }
        }
        var components = URLComponents()
        components.queryItems = items
        return "/api/v1/appeals" + (components.string ?? "")
    }

    /// A coordinate on the drawing, to a tenth of a pixel.
    static func n(_ value: Double) -> String { String(format: "%.1f", value) }
}
