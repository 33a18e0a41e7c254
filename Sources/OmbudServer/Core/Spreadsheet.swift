import Foundation
import OmbudDomain
import Vapor
import ZIPFoundation

/// One value of an exported table, typed so that a spreadsheet shows dates as dates and numbers as numbers.
enum Cell: Sendable, Equatable {
    case text(String)
    case number(Double)
    case date(CivilDate)
    /// A moment, shown in the installation's time zone.
    case moment(Date)
    case empty
}

/// The formats a table is downloaded in.
enum TableFormat: String, Sendable {
    case json, csv, xlsx

    static func parse(_ raw: String?, allowed: [TableFormat] = [.json, .csv, .xlsx]) throws -> TableFormat {
        guard let raw = raw.nonBlank else { return allowed[0] }
        guard let format = TableFormat(rawValue: raw.lowercased()), allowed.contains(format) else {
            throw AppError.invalid(field: "format", reason: "must be one of \(allowed.map(\.rawValue).joined(separator: ", "))")
        }
        return format
    }

    var mediaType: HTTPMediaType {
        switch self {
        case .json: .json
        case .csv: HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        case .xlsx: HTTPMediaType(type: "application", subType: "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        }
    }
}

/// A table written row by row to a file on disk, as CSV (UTF-8 with a byte order mark, comma-separated, ISO dates) or
/// as an Office Open XML workbook of one sheet; `finish` gives the file to send. Nothing is kept in memory but the row
/// being written, so a list of a million rows is exported like one of ten.
final class TableWriter {
    let format: TableFormat
    private let zone: TimeZone
    private let directory: URL
    private let sheetURL: URL
    private let handle: FileHandle
    private var buffer = Data()
    private var rowNumber = 0
    private let sheetName: String

    init(format: TableFormat, sheetName: String, header: [String], zone: TimeZone) throws {
        precondition(format != .json, "JSON is not written as a table")
        self.format = format
        self.zone = zone
        self.sheetName = sheetName
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ombud-table-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        sheetURL = directory.appendingPathComponent(format == .csv ? "table.csv" : "sheet1.xml")
        FileManager.default.createFile(atPath: sheetURL.path, contents: nil)
        handle = try FileHandle(forWritingTo: sheetURL)
        if format == .csv {
            buffer.append(contentsOf: [0xEF, 0xBB, 0xBF])
        } else {
            buffer.append(contentsOf: Array("""
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0">\
                <pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>
                """.utf8))
        }
        try append(header.map(Cell.text), bold: true)
    }

    deinit { try? handle.close() }

    func append(_ cells: [Cell]) throws { try append(cells, bold: false) }

    private func append(_ cells: [Cell], bold: Bool) throws {
        rowNumber += 1
        if format == .csv {
            buffer.append(contentsOf: Array((cells.map(csv).joined(separator: ",") + "\r\n").utf8))
        } else {
            var row = "<row r=\"\(rowNumber)\">"
            for (index, cell) in cells.enumerated() { row += xml(cell, reference: Self.column(index) + String(rowNumber), bold: bold) }
            buffer.append(contentsOf: Array((row + "</row>").utf8))
        }
        if buffer.count > 1 << 16 { try flush() }
    }

    private func flush() throws {
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// The finished file, in a folder of its own that `TableWriter.remove` deletes once it is sent.
    func finish() throws -> URL {
        if format == .xlsx { buffer.append(contentsOf: Array("</sheetData></worksheet>".utf8)) }
        try flush()
        try handle.close()
        guard format == .xlsx else { return sheetURL }
        let url = directory.appendingPathComponent("table.xlsx")
        let archive = try Archive(url: url, accessMode: .create)
        for (path, text) in Self.workbookParts(sheetName: sheetName) {
            let data = Data(text.utf8)
            try archive.addEntry(with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
        try archive.addEntry(with: "xl/worksheets/sheet1.xml", fileURL: sheetURL, compressionMethod: .deflate)
        try FileManager.default.removeItem(at: sheetURL)
        return url
    }

    /// Drops the file being written (a request that failed half-way leaves nothing in the temporary folder).
    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends a finished file as a download named `fileName`, and deletes it afterwards.
    static func response(_ url: URL, format: TableFormat, fileName: String, for req: Request) async throws -> Response {
        let response = try await req.fileio.asyncStreamFile(at: url.path, mediaType: format.mediaType) { _ in
            try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
        }
        response.headers.contentDisposition = .init(.attachment, filename: fileName)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    private func csv(_ cell: Cell) -> String {
        switch cell {
        case let .text(text): CSVField.escape(text)
        case let .number(number): Self.plain(number)
        case let .date(day): day.iso
        case let .moment(date):
            "\(CivilDate.of(date, in: zone).iso) \(Self.clock(date, zone))"
        case .empty: ""
        }
    }

    private func xml(_ cell: Cell, reference: String, bold: Bool) -> String {
        switch cell {
        case let .text(text):
            "<c r=\"\(reference)\" t=\"inlineStr\"\(bold ? " s=\"3\"" : "")><is><t xml:space=\"preserve\">\(GeoFormat.xmlEscaped(text))</t></is></c>"
        case let .number(number): "<c r=\"\(reference)\"><v>\(Self.plain(number))</v></c>"
        case let .date(day): "<c r=\"\(reference)\" s=\"1\"><v>\(day.dayNumber + 25_569)</v></c>"
        case let .moment(date):
            // Spreadsheets count days since 1899-12-30 in local time.
            "<c r=\"\(reference)\" s=\"2\"><v>\((date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))) / 86_400 + 25_569)</v></c>"
        case .empty: ""
        }
    }

    static func plain(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    private static func clock(_ date: Date, _ zone: TimeZone) -> String {
        let seconds = Int((date.timeIntervalSince1970 + Double(zone.secondsFromGMT(for: date))).rounded(.down))
        let inDay = ((seconds % 86_400) + 86_400) % 86_400
        return String(format: "%02d:%02d:%02d", inDay / 3600, inDay / 60 % 60, inDay % 60)
    }

    /// A, B, … Z, AA, AB, …
    static func column(_ index: Int) -> String {
        var n = index + 1
        var name = ""
        while n > 0 {
            let remainder = (n - 1) % 26
            name = String(UnicodeScalar(UInt8(65 + remainder))) + name
            n = (n - 1) / 26
        }
        return name
    }

    private static func workbookParts(sheetName: String) -> [(String, String)] {
        let name = GeoFormat.xmlEscaped(String(sheetName.filter { !"[]:*?/\\".contains($0) }.prefix(31)))
        return [
            ("[Content_Types].xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
                <Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
                <Default Extension="xml" ContentType="application/xml"/>\
                <Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
                <Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
                <Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>\
                </Types>
                """),
            ("_rels/.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
                </Relationships>
                """),
            ("xl/workbook.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
                xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
                <sheets><sheet name="\(name.isEmpty ? "Sheet1" : name)" sheetId="1" r:id="rId1"/></sheets></workbook>
                """),
            ("xl/_rels/workbook.xml.rels", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
                <Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
                <Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>\
                </Relationships>
                """),
            // Styles: 0 plain, 1 a date, 2 a date and time, 3 the header's bold text.
            ("xl/styles.xml", """
                <?xml version="1.0" encoding="UTF-8" standalone="yes"?>
                <styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">\
                <numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/><numFmt numFmtId="165" formatCode="yyyy\\-mm\\-dd hh:mm"/></numFmts>\
                <fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
                <fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
                <borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
                <cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
                <cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
                <xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
                <xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
                <xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
                <cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
                </styleSheet>
                """),
        ]
    }
}
