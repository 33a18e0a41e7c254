import Foundation

/// What the staff map shows of a box: the Web Mercator zoom at which it fits the drawing, where a point falls on it,
/// which tiles of a tile server cover it, a cell size for its hotspot grid, and the boxes of zooming and panning.
/// Web Mercator is what every tile server (OpenStreetMap and the like) draws in, so points and tiles agree.
public struct MapView: Sendable, Equatable {
    public static let tileSize = 256.0
    public static let maxZoom = 18

    public let box: MapGrid.Box
    public let zoom: Int
    /// The box's north-west corner in world pixels at `zoom`.
    public let originX, originY: Double
    /// The box's size in pixels at `zoom`.
    public let width, height: Double

    /// The deepest zoom at which the box fits in `maxWidth` × `maxHeight` pixels.
    public init(box: MapGrid.Box, maxWidth: Double = 960, maxHeight: Double = 640) {
        self.box = box
        var zoom = 0
        for z in (0...Self.maxZoom).reversed() {
            let (x0, y0) = Self.world(lat: box.maxLat, lon: box.minLon, zoom: z)
            let (x1, y1) = Self.world(lat: box.minLat, lon: box.maxLon, zoom: z)
            if x1 - x0 <= maxWidth, y1 - y0 <= maxHeight {
                zoom = z
                break
            }
        }
        self.zoom = zoom
        (originX, originY) = Self.world(lat: box.maxLat, lon: box.minLon, zoom: zoom)
        let (x1, y1) = Self.world(lat: box.minLat, lon: box.maxLon, zoom: zoom)
        width = max(x1 - originX, 1)
        height = max(y1 - originY, 1)
    }

    /// World pixel coordinates of a point at a zoom (Web Mercator, latitudes clamped to the projection's ±85.05°).
    public static func world(lat: Double, lon: Double, zoom: Int) -> (x: Double, y: Double) {
        let scale = tileSize * pow(2, Double(zoom))
        let phi = min(max(lat, -85.051_128), 85.051_128) * .pi / 180
        let x = (lon + 180) / 360 * scale
        let y = (1 - log(tan(phi) + 1 / cos(phi)) / .pi) / 2 * scale
        return (x, y)
    }

    /// A point's place on the drawing, from its north-west corner.
    public func point(lat: Double, lon: Double) -> (x: Double, y: Double) {
        let (x, y) = Self.world(lat: lat, lon: lon, zoom: zoom)
        return (x - originX, y - originY)
    }

    public struct Tile: Sendable, Equatable {
        public let z, x, y: Int
        /// The tile's north-west corner on the drawing.
        public let left, top: Double

        public init(z: Int, x: Int, y: Int, left: Double, top: Double) {
            self.z = z
            self.x = x
            self.y = y
            self.left = left
            self.top = top
        }
    }

    /// The tiles that cover the drawing, row by row.
    public var tiles: [Tile] {
        let count = 1 << zoom
        let columns = Int((originX / Self.tileSize).rounded(.down))...Int(((originX + width) / Self.tileSize).rounded(.down))
        let rows = Int((originY / Self.tileSize).rounded(.down))...Int(((originY + height) / Self.tileSize).rounded(.down))
        return rows.filter { (0..<count).contains($0) }.flatMap { y in
            columns.filter { (0..<count).contains($0) }.map { x in
                Tile(z: zoom, x: x, y: y, left: Double(x) * Self.tileSize - originX, top: Double(y) * Self.tileSize - originY)
            }
        }
    }

    /// A round cell size giving about `across` cells over the box's width, within the grid's limits.
    public static func cellMeters(for box: MapGrid.Box, across: Double = 40) -> Double {
        let middle = (box.minLat + box.maxLat) / 2 * .pi / 180
        let widthMeters = (box.maxLon - box.minLon) * MapGrid.metersPerDegree * max(cos(middle), 0.01)
        let heightMeters = (box.maxLat - box.minLat) * MapGrid.metersPerDegree
        let raw = max(widthMeters, heightMeters) / across
        let nice = [100.0, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 25_000, 50_000, 100_000, 200_000]
        return nice.first { $0 >= raw } ?? nice[nice.count - 1]
    }

    /// Boxes are never narrower than this (about 200 m), however often one zooms in: the grid is no finer than 100 m.
    public static let minimumSpan = 0.002

    /// The box scaled by `factor` about its middle (below 1 zooms in), kept within the world and `minimumSpan`.
    public static func zoomed(_ box: MapGrid.Box, by factor: Double) -> MapGrid.Box {
        let lat = (box.minLat + box.maxLat) / 2, lon = (box.minLon + box.maxLon) / 2
        let halfLat = min(max((box.maxLat - box.minLat) * factor, minimumSpan) / 2, 85)
        let halfLon = min(max((box.maxLon - box.minLon) * factor, minimumSpan) / 2, 180)
        return clamped(minLon: lon - halfLon, minLat: lat - halfLat, maxLon: lon + halfLon, maxLat: lat + halfLat)
    }

    /// The box moved by a share of its size: east and north are positive.
    public static func panned(_ box: MapGrid.Box, east: Double, north: Double) -> MapGrid.Box {
        let dLon = (box.maxLon - box.minLon) * east, dLat = (box.maxLat - box.minLat) * north
        return clamped(minLon: box.minLon + dLon, minLat: box.minLat + dLat, maxLon: box.maxLon + dLon, maxLat: box.maxLat + dLat)
    }

    /// The smallest box around the points, widened by a tenth on each side and to at least `minimum` degrees, so
    /// that a single point still shows its neighbourhood.
    public static func around(minLat: Double, minLon: Double, maxLat: Double, maxLon: Double, minimum: Double = 0.01) -> MapGrid.Box {
        let padLat = max((maxLat - minLat) * 0.1, (minimum - (maxLat - minLat)) / 2, 0)
        let padLon = max((maxLon - minLon) * 0.1, (minimum - (maxLon - minLon)) / 2, 0)
        return clamped(minLon: minLon - padLon, minLat: minLat - padLat, maxLon: maxLon + padLon, maxLat: maxLat + padLat)
    }

    private static func clamped(minLon: Double, minLat: Double, maxLon: Double, maxLat: Double) -> MapGrid.Box {
        let width = min(maxLon - minLon, 360), height = min(maxLat - minLat, 170)
        let west = min(max(minLon, -180), 180 - width), south = min(max(minLat, -85), 85 - height)
        return MapGrid.Box(minLon: west, minLat: south, maxLon: west + width, maxLat: south + height)
    }

    /// The box as the `bbox` parameter writes it, to six decimals.
    public static func text(_ box: MapGrid.Box) -> String {
        [box.minLon, box.minLat, box.maxLon, box.maxLat].map { String(StatsTally.rounded($0, places: 6)) }.joined(separator: ",")
    }
}

/// A tile server's address template, OpenStreetMap style: `https://tile.openstreetmap.org/{z}/{x}/{y}.png`, with an
/// optional `{s}` for the subdomains a, b and c.
public struct TileTemplate: Sendable, Equatable {
    public let template: String
    /// `scheme://host[:port]`, which the page's Content-Security-Policy lets images come from.
    public let origin: String

    public init?(_ raw: String) {
        let raw = raw.trimmed()
        guard let url = URL(string: raw.replacingOccurrences(of: "{s}", with: "a").replacingOccurrences(of: "{z}", with: "0")
                                .replacingOccurrences(of: "{x}", with: "0").replacingOccurrences(of: "{y}", with: "0")),
              let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), let host = url.host, !host.isEmpty,
              ["{z}", "{x}", "{y}"].allSatisfy(raw.contains), !raw.contains(" "), !raw.contains("'"), !raw.contains(";")
        else { return nil }
        template = raw
        let hostPattern = raw.contains("{s}") && url.host?.hasPrefix("a.") == true ? "*." + host.dropFirst(2) : host
        origin = "\(scheme)://\(hostPattern)" + (url.port.map { ":\($0)" } ?? "")
    }

    public func url(_ tile: MapView.Tile) -> String {
        template.replacingOccurrences(of: "{s}", with: ["a", "b", "c"][(tile.x + tile.y) % 3])
            .replacingOccurrences(of: "{z}", with: String(tile.z)).replacingOccurrences(of: "{x}", with: String(tile.x))
            .replacingOccurrences(of: "{y}", with: String(tile.y))
    }
}
