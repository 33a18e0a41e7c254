import Foundation
import OmbudDomain

/// Charts drawn on the server as inline SVG: they need no script, scale to the width of a phone (a viewBox and
/// `width: 100%`), and carry their figures as text and `<title>` for screen readers.
enum SVGChart {
    struct Bar {
        var label: String
        var value: Double
        /// What the bar shows on hover and to a screen reader ("12 — 3 March").
        var title: String
        var highlight = false
    }

    /// Vertical bars over time (a label under every `labelEvery`-th bar).
    static func columns(_ bars: [Bar], labelEvery: Int = 1, height: Double = 160, rightToLeft: Bool = false) -> String {
        let width = 600.0, top = 10.0, bottom = 24.0
        let maximum = max(bars.map(\.value).max() ?? 0, 1)
        let step = width / Double(max(bars.count, 1))
        var out = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" preserveAspectRatio=\"none\">"
        out += "<line x1=\"0\" y1=\"\(height - bottom)\" x2=\"\(width)\" y2=\"\(height - bottom)\" class=\"axis\"/>"
        for (index, bar) in bars.enumerated() {
            let position = rightToLeft ? Double(bars.count - 1 - index) : Double(index)
            let h = (height - top - bottom) * bar.value / maximum
            let x = position * step + step * 0.15
            out += "<rect x=\(q(x)) y=\(q(height - bottom - h)) width=\(q(step * 0.7)) height=\(q(h))\(bar.highlight ? " class=\"hot\"" : "")>"
            out += "<title>\(GeoFormat.xmlEscaped(bar.title))</title></rect>"
            if index % max(labelEvery, 1) == 0 {
                out += "<text x=\(q(x + step * 0.35)) y=\(q(height - 6)) text-anchor=\"middle\">\(GeoFormat.xmlEscaped(bar.label))</text>"
            }
        }
        return out + "</svg>"
    }

    /// A line of shares (0…1) over time, with its points.
    static func line(_ points: [Bar], height: Double = 140, rightToLeft: Bool = false) -> String {
        let width = 600.0, top = 10.0, bottom = 24.0
        let step = width / Double(max(points.count, 1))
        var out = "<svg class=\"chart\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" preserveAspectRatio=\"none\">"
        for share in [0.0, 0.5, 1.0] {
            let y = height - bottom - (height - top - bottom) * share
            out += "<line x1=\"0\" y1=\(q(y)) x2=\"\(width)\" y2=\(q(y)) class=\"grid\"/>"
        }
        var path: [String] = []
        for (index, point) in points.enumerated() {
            let position = rightToLeft ? Double(points.count - 1 - index) : Double(index)
            let x = position * step + step / 2
            let y = height - bottom - (height - top - bottom) * min(max(point.value, 0), 1)
            path.append("\(x.rounded()),\(y.rounded())")
            out += "<circle cx=\(q(x)) cy=\(q(y)) r=\"4\"><title>\(GeoFormat.xmlEscaped(point.title))</title></circle>"
            out += "<text x=\(q(x)) y=\(q(height - 6)) text-anchor=\"middle\">\(GeoFormat.xmlEscaped(point.label))</text>"
        }
        if path.count > 1 { out += "<polyline points=\"\(path.joined(separator: " "))\" class=\"trend\"/>" }
        return out + "</svg>"
    }

    private static func q(_ value: Double) -> String { "\"\(String(format: "%.1f", value))\"" }
}
