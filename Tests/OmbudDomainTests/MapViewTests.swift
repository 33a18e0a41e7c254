import Foundation
import OmbudDomain
import Testing

struct MapViewTests {
    /// St Petersburg's centre, about 17 × 11 km.
    let spb = MapGrid.Box(minLon: 30.2, minLat: 59.9, maxLon: 30.5, maxLat: 60.0)

    @Test func projectionMatchesTheTileServersNumbering() {
        // The Hermitage lies in tile 12/2392/1190 of OpenStreetMap (checked against the slippy-map formula).
        let (x, y) = MapView.world(lat: 59.9398, lon: 30.3146, zoom: 12)
        #expect(Int(x / 256) == 2392 && Int(y / 256) == 1190)
        let (x0, y0) = MapView.world(lat: 0, lon: 0, zoom: 0)
        #expect(x0 == 128 && abs(y0 - 128) < 1e-9)
    }

    @Test func theBoxFitsTheDrawingAtTheDeepestZoom() {
        let view = MapView(box: spb, maxWidth: 960, maxHeight: 640)
        #expect(view.width <= 960 && view.height <= 640)
        let deeper = MapView.world(lat: spb.minLat, lon: spb.maxLon, zoom: view.zoom + 1).x - MapView.world(lat: spb.maxLat, lon: spb.minLon, zoom: view.zoom + 1).x
        #expect(deeper > 960 || MapView.world(lat: spb.minLat, lon: 0, zoom: view.zoom + 1).y - MapView.world(lat: spb.maxLat, lon: 0, zoom: view.zoom + 1).y > 640)
        let corner = view.point(lat: spb.maxLat, lon: spb.minLon)
        #expect(abs(corner.x) < 1e-9 && abs(corner.y) < 1e-9)
        let other = view.point(lat: spb.minLat, lon: spb.maxLon)
        #expect(abs(other.x - view.width) < 1e-6 && abs(other.y - view.height) < 1e-6)
        // North is up: a point further north is higher on the drawing.
        #expect(view.point(lat: 59.99, lon: 30.3).y < view.point(lat: 59.91, lon: 30.3).y)
    }

    @Test func tilesCoverTheDrawingAndNothingOutsideTheWorld() {
        let view = MapView(box: spb)
        let tiles = view.tiles
        #expect(!tiles.isEmpty && tiles.allSatisfy { $0.z == view.zoom })
        #expect(tiles.contains { $0.left <= 0 && $0.top <= 0 && $0.left + 256 > 0 && $0.top + 256 > 0 })
        #expect(tiles.contains { $0.left + 256 >= view.width && $0.top + 256 >= view.height })
        let world = MapView(box: MapGrid.Box(minLon: -180, minLat: -85, maxLon: 180, maxLat: 85), maxWidth: 300, maxHeight: 300)
        #expect(world.zoom == 0 && world.tiles.count == 1)
    }

    @Test func cellSizeIsRoundAndWithinTheGridsLimits() throws {
        #expect(MapView.cellMeters(for: spb) == 500) // 17 km / 40 ≈ 420 m
        #expect(MapView.cellMeters(for: MapGrid.Box(minLon: 30.31, minLat: 59.93, maxLon: 30.312, maxLat: 59.931)) == 100)
        #expect(MapView.cellMeters(for: MapGrid.Box(minLon: -180, minLat: -85, maxLon: 180, maxLat: 85)) == 200_000)
        _ = try MapGrid(box: spb, meters: MapView.cellMeters(for: spb))
    }

    @Test func zoomingAndPanningStayInTheWorld() {
        let inside = MapView.zoomed(spb, by: 0.5)
        #expect(abs((inside.maxLon - inside.minLon) - 0.15) < 1e-9 && abs((inside.minLon + inside.maxLon) / 2 - 30.35) < 1e-9)
        let out = MapView.zoomed(MapGrid.Box(minLon: -100, minLat: -60, maxLon: 100, maxLat: 60), by: 4)
        #expect(out.minLon >= -180 && out.maxLon <= 180 && out.minLat >= -85 && out.maxLat <= 85)
        let east = MapView.panned(spb, east: 0.5, north: 0)
        #expect(abs(east.minLon - 30.35) < 1e-9 && east.minLat == spb.minLat)
        let edge = MapView.panned(MapGrid.Box(minLon: 170, minLat: 0, maxLon: 179, maxLat: 1), east: 1, north: 0)
        #expect(edge.maxLon == 180 && abs(edge.minLon - 171) < 1e-9)
        let point = MapView.around(minLat: 59.93, minLon: 30.31, maxLat: 59.93, maxLon: 30.31)
        #expect(point.maxLat - point.minLat >= 0.01 - 1e-12 && point.minLat < 59.93 && point.maxLat > 59.93)
        #expect(MapView.text(spb) == "30.2,59.9,30.5,60.0")
    }

    @Test func tileTemplatesAreCheckedAndFilledIn() throws {
        let osm = try #require(TileTemplate("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png"))
        #expect(osm.origin == "https://*.tile.openstreetmap.org")
        #expect(osm.url(MapView.Tile(z: 12, x: 2392, y: 1190, left: 0, top: 0)) == "https://a.tile.openstreetmap.org/12/2392/1190.png")
        #expect(TileTemplate("http://127.0.0.1:8081/tiles/{z}/{x}/{y}.png")?.origin == "http://127.0.0.1:8081")
        for bad in ["ftp://tiles/{z}/{x}/{y}", "https://tiles.example/{z}/{x}.png", "javascript:alert(1)//{z}{x}{y}", "https://a b/{z}/{x}/{y}",
                    "https://x.example/{z}/{x}/{y}.png'; script-src *"] {
            #expect(TileTemplate(bad) == nil, "\(bad)")
        }
    }
}
