import Fluent
import Foundation
import OmbudDomain
import SQLKit

/// The local address register: for a typed address, the building's point and district (`AddressKey` makes the many
/// spellings of one building one key). Learned from the appeals' own addresses — nightly and when the demo loads — and
/// from lists an administrator imports (`ombud addresses import`), which take precedence over what was learned.
enum AddressRegister {
    struct Match: Sendable, Equatable {
        var district: String? = nil
        var lat: Double? = nil
        var lon: Double? = nil
        /// The building itself was found (else only its street, which gives a district but no point).
        var building: Bool
    }

    /// The building, or else the street's most common district.
    static func lookup(_ text: String, db: any Database) async throws -> Match? {
        guard let key = AddressKey(text) else { return nil }
        if !key.house.isEmpty, let row = try await AddressRecord.find(key.description, on: db) {
            return Match(district: row.district, lat: row.lat, lon: row.lon, building: true)
        }
        let rows = try await AddressRecord.query(on: db).filter(\.$streetKey == key.streetKey).filter(\.$district != nil).limit(500).all()
        var weights: [String: Int] = [:]
        for row in rows { if let d = row.district { weights[d, default: 0] += max(row.appeals, 1) } }
        guard let district = weights.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) })?.key else { return nil }
        return Match(district: district, lat: nil, lon: nil, building: false)
    }

    /// A typed address without a point gets its building's point; without a district, the building's or the street's.
    static func complete(_ address: AddressInput?, db: any Database) async throws -> AddressInput? {
        guard var address, let text = address.text?.nonBlank, address.lat == nil || address.district?.nonBlank == nil,
              let match = try await lookup(text, db: db) else { return address }
        if address.lat == nil, address.lon == nil, let lat = match.lat, let lon = match.lon { (address.lat, address.lon) = (lat, lon) }
        if address.district?.nonBlank == nil { address.district = match.district }
        return address
    }

    /// Rebuilds the rows learned from appeals: per building, the mean of the appeals' points and their most common
    /// district. Imported rows stay as they are. Returns the number of buildings learned.
    @discardableResult
    static func learn(store: Store, now: Date) async throws -> Int {
        struct Tally { var text: String; var count = 0; var lat = 0.0; var lon = 0.0; var points = 0; var districts: [String: Int] = [:] }
        let sql = store.db as! any SQLDatabase
        var tallies: [String: (key: AddressKey, tally: Tally)] = [:]
        var after: UUID?
        // By pages of the primary key: a million appeals are read without holding them all.
        while true {
            var query = sql.select().columns("id", "address_text", "district", "lat", "lon").from(Appeal.schema)
                .where("address_text", .isNot, SQLLiteral.null)
            if let after { query = query.where("id", .greaterThan, SQLBind(after)) }
            let rows = try await query.orderBy("id").limit(20_000).all()
            guard !rows.isEmpty else { break }
            for row in rows {
                guard let text = try row.decode(column: "address_text", as: String?.self), let key = AddressKey(text), !key.house.isEmpty else { continue }
                var entry = tallies[key.description] ?? (key, Tally(text: text))
                entry.tally.count += 1
                if let lat = try row.decode(column: "lat", as: Double?.self), let lon = try row.decode(column: "lon", as: Double?.self) {
                    entry.tally.lat += lat
                    entry.tally.lon += lon
                    entry.tally.points += 1
                }
                if let district = try row.decode(column: "district", as: String?.self)?.nonBlank { entry.tally.districts[district, default: 0] += 1 }
                tallies[key.description] = entry
            }
            after = try rows.last?.decode(column: "id", as: UUID.self)
        }
        let imported = Set(try await AddressRecord.query(on: store.db).filter(\.$source == "import").all(\.$id).compactMap { $0 })
        let learned = tallies.filter { !imported.contains($0.key) }
        let records = learned.map { id, entry -> AddressRecord in
            let row = AddressRecord()
            row.id = id
            row.streetKey = entry.key.streetKey
            row.text = entry.tally.text
            row.district = ApplicantMatching.likelyDistrict(entry.tally.districts.flatMap { Array(repeating: $0.key, count: $0.value) })
            if entry.tally.points > 0 {
                row.lat = entry.tally.lat / Double(entry.tally.points)
                row.lon = entry.tally.lon / Double(entry.tally.points)
            }
            row.source = "appeals"
            row.appeals = entry.tally.count
            row.updatedAt = now
            return row
        }
        try await store.write { db in
            try await AddressRecord.query(on: db).filter(\.$source == "appeals").delete()
            for chunk in stride(from: 0, to: records.count, by: 500).map({ Array(records[$0..<min($0 + 500, records.count)]) }) {
                try await chunk.create(on: db)
            }
        }
        return records.count
    }

    struct ImportReport: Sendable {
        var imported = 0
        /// "line N: field: reason" for each row refused.
        var refused: [String] = []
    }

    /// Rows of a CSV with the columns street, house, district, lat, lon (a header names them, in any order; district
    /// and the point may be empty). A row whose building is already imported replaces it.
    static func importCSV(_ text: String, store: Store, now: Date) async throws -> ImportReport {
        let rows = try CSVReader.records(text)
        var report = ImportReport()
        var records: [String: AddressRecord] = [:]
        for (i, row) in rows.enumerated() {
            let line = i + 2
            let street = row["street"]?.trimmed() ?? "", house = row["house"]?.trimmed() ?? ""
            guard !street.isEmpty else { report.refused.append("line \(line): street: is required"); continue }
            guard !house.isEmpty else { report.refused.append("line \(line): house: is required"); continue }
            guard let key = AddressKey("\(street), д. \(house)"), !key.house.isEmpty else {
                report.refused.append("line \(line): street: not an address"); continue
            }
            let latText = row["lat"]?.trimmed() ?? "", lonText = row["lon"]?.trimmed() ?? ""
            var point: (Double, Double)?
            if !latText.isEmpty || !lonText.isEmpty {
                guard let lat = Double(latText), (-90...90).contains(lat) else { report.refused.append("line \(line): lat: a number from -90 to 90"); continue }
                guard let lon = Double(lonText), (-180...180).contains(lon) else { report.refused.append("line \(line): lon: a number from -180 to 180"); continue }
                point = (lat, lon)
            }
            let record = AddressRecord()
            record.id = key.description
            record.streetKey = key.streetKey
            record.text = "\(street), \(house)"
            record.district = row["district"]?.trimmed().nonEmpty
            record.lat = point?.0
            record.lon = point?.1
            record.source = "import"
            record.appeals = 0
            record.updatedAt = now
            records[key.description] = record
        }
        let all = Array(records.values)
        try await store.write { db in
            for chunk in stride(from: 0, to: all.count, by: 500).map({ Array(all[$0..<min($0 + 500, all.count)]) }) {
                try await AddressRecord.query(on: db).filter(\.$id ~~ chunk.compactMap(\.id)).delete()
                try await chunk.create(on: db)
            }
        }
        report.imported = all.count
        return report
    }
}
