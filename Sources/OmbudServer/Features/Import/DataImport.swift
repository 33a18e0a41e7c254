import Fluent
import Foundation
import OmbudDomain

/// Loading reference data from files: the classifier and production calendars.
enum DataImport {
    static func topics(path: String, store: Store) async throws -> Int {
        var url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw AppError.invalid(field: "path", reason: "no such file or folder: \(path)")
        }
        if isDirectory.boolValue { url.appendPathComponent("classifier.csv") }
        let topics = try Classifier.parse(csv: try readText(url))
        return try await TopicStore.importClassifier(topics, store: store)
    }

    static func calendar(path: String, key: String, store: Store) async throws -> [Int] {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw AppError.invalid(field: "path", reason: "no such file or folder: \(path)")
        }
        let files = isDirectory.boolValue
            ? try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".xml") || $0.hasSuffix(".csv") }.sorted()
                .map { url.appendingPathComponent($0) }
            : [url]
        guard !files.isEmpty else { throw AppError.invalid(field: "path", reason: "no .xml or .csv calendar files in \(path)") }
        // Parse every file before storing any, so that one bad file changes nothing. XML files are production
        // calendars (Gregorian); CSV files are Solar Hijri holiday lists.
        var gregorian: [ProductionCalendarXML.Year] = []
        var solarHijri: [BusinessCalendar.Day] = []
        for file in files {
            if file.pathExtension == "xml" {
                do { gregorian.append(try ProductionCalendarXML.parse(try readText(file))) } catch let error as ProductionCalendarXML.ParseError {
                    throw AppError.invalid(field: file.lastPathComponent, reason: error.message)
                }
            } else {
                let text = try readText(file)
                do throws(ValidationError) { solarHijri += try SolarHijriHolidays.parse(text) } catch {
                    throw AppError.invalid(field: "\(file.lastPathComponent): \(error.field)", reason: error.reason)
                }
            }
        }
        for year in gregorian { _ = try await CalendarStore.importYear(year, key: key, store: store) }
        let solarYears = solarHijri.isEmpty ? [] : try await CalendarStore.importSolarHijri(solarHijri, key: key, store: store)
        return gregorian.map(\.year) + solarYears
    }

    /// Reads a UTF-8 file; `.gz` files are decompressed by the system's gzip.
    static func readText(_ url: URL) throws -> String {
        let data: Data
        if url.pathExtension == "gz" {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["gzip", "-dc", url.path]
            let pipe = Pipe()
            process.standardOutput = pipe
            try process.run()
            data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw AppError.invalid(field: "path", reason: "cannot decompress \(url.path)") }
        } else {
            data = try Data(contentsOf: url)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw AppError.invalid(field: "path", reason: "\(url.lastPathComponent) is not UTF-8 text")
        }
        return text
    }
}
