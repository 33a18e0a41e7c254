import Fluent
import Foundation
import OmbudDomain
import SQLKit
import Testing
import Vapor
import VaporTesting
@testable import OmbudServer

extension OmbudServerSuite {
    @Suite struct CSVImportTests {
        let mapping = """
            {"source": "boston311", "timezone": "America/New_York", "dateFormats": ["MM/dd/yyyy hh:mm:ss a"],
             "fields": {"externalId": "CASE_ENQUIRY_ID", "receivedAt": "OPEN_DT", "controlDate": "TARGET_DT", "closedAt": "CLOSED_DT",
                        "category": "TYPE", "executor": "Department", "district": "neighborhood", "address": "Location",
                        "lat": "LATITUDE", "lon": "LONGITUDE", "channel": "Source", "text": "CASE_TITLE", "status": "CASE_STATUS"},
             "values": {"status": {"Closed": "closed", "*": "in-progress"},
                        "channel": {"Self Service": "web", "Citizens Connect App": "web", "Constituent Call": "phone", "*": "other"}}}
            """
        let csv = """
            CASE_ENQUIRY_ID,OPEN_DT,TARGET_DT,CLOSED_DT,CASE_STATUS,CASE_TITLE,TYPE,Department,Location,neighborhood,LATITUDE,LONGITUDE,Source
            101,01/02/2015 08:00:00 AM,01/05/2015 08:00:00 AM,01/03/2015 08:00:00 PM,Closed,Pothole on Main St,Request for Pothole Repair,PWDx,1 Main St,Roxbury,42.3,-71.1,Citizens Connect App
            102,07/02/2015 08:00:00 AM,07/03/2015 08:00:00 AM,07/09/2015 08:00:00 AM,Closed,"Light out, corner",Street Light Outages,PWDx,2 Main St,Roxbury,42.31,-71.1,Constituent Call
            103,07/04/2015 09:30:00 PM,,,Open,Trash,Missed Trash,PROP,3 Elm St,Dorchester,,,Employee Generated
            104,not a date,,,Open,Bad row,Missed Trash,PROP,3 Elm St,Dorchester,,,Employee Generated
            101,01/02/2015 08:00:00 AM,,,Open,Twice in the file,Missed Trash,PROP,,,,,Self Service
            105,07/05/2015 09:30:00 PM,,,Closed,Closed without a date,Missed Trash,PROP,,,,,Self Service

            """

        func files(_ name: String = "export.csv") throws -> (csv: String, mapping: String) {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ombud-csv-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            let csvPath = dir.appendingPathComponent(name).path
            let mappingPath = dir.appendingPathComponent("map.json").path
            try Data(csv.utf8).write(to: URL(fileURLWithPath: csvPath))
            try Data(mapping.utf8).write(to: URL(fileURLWithPath: mappingPath))
            return (csvPath, mappingPath)
        }

        @Test func importKeepsDatesMakesTopicsAndUnitsAndIsIdempotent() async throws {
            try await withOmbud { ctx, _ in
                let (csvPath, mappingPath) = try files()
                let first = try await CSVImporter.run(path: csvPath, mapping: mappingPath, app: ctx.app)
                #expect(first == CSVImporter.Result(imported: 3, present: 0, refused: 3, rows: 6, rejectsFile: csvPath + ".rejects.csv"))
                let rejects = try String(contentsOfFile: csvPath + ".rejects.csv", encoding: .utf8).split(separator: "\r\n")
                #expect(rejects.count == 4)
                #expect(rejects[1].hasPrefix("5,receivedAt: cannot read not a date as a date,104,"))
                #expect(rejects[2].hasPrefix("6,externalId: 101 appears twice in the file,101,"))
                #expect(rejects[3].hasPrefix("7,closedAt: is required for the final status closed,105,"))

                let appeals = try await Appeal.query(on: ctx.app.db).sort(\.$receivedAt).all()
                #expect(appeals.map(\.externalID) == ["boston311:101", "boston311:102", "boston311:103"])
                let pothole = appeals[0]
                #expect(pothole.receivedAt == ISO8601DateFormatter().date(from: "2015-01-02T13:00:00Z"))
                #expect(pothole.closedAt == ISO8601DateFormatter().date(from: "2015-01-04T01:00:00Z"))
                #expect(pothole.status == "closed" && pothole.channel == "web" && pothole.controlDate == "2015-01-05")
                #expect(pothole.trackingCode.hasPrefix("2015-") && pothole.$applicant.id == nil && pothole.district == "Roxbury")
                #expect(appeals[2].status == "in-progress" && appeals[2].channel == "other" && appeals[2].closedAt == nil)
                // Each category is a local topic under the source's group; each department a unit of kind body.
                let questions = try await Question.query(on: ctx.app.db).all()
                #expect(questions.count == 3)
                let topic = try #require(try await TopicRecord.find(CSVMapping.code(source: "boston311", value: "Request for Pothole Repair"), on: ctx.app.db))
                #expect(topic.name == "Request for Pothole Repair" && topic.parentCode == "boston311" && topic.isLocal)
                let units = try await OrgUnit.query(on: ctx.app.db).filter(\.$kind == "body").all().map(\.name)
                #expect(Set(units).isSuperset(of: ["PWDx", "PROP"]))
                let history = try await HistoryEntry.query(on: ctx.app.db).filter(\.$action == "import").count()
                #expect(history == 3)

                // A second run adds nothing and says so; topics and units are not made twice.
                let second = try await CSVImporter.run(path: csvPath, mapping: mappingPath, app: ctx.app)
                #expect(second.imported == 0 && second.present == 3 && second.refused == 3)
                #expect(try await Appeal.query(on: ctx.app.db).count() == 3)
                #expect(try await OrgUnit.query(on: ctx.app.db).filter(\.$name == "PWDx").count() == 1)

                // Statistics treat imported appeals like any other.
                try await ctx.get("/api/v1/stats?groupBy=executor,year&measures=count,closed,overdue") { res in
                    #expect(res.status == .ok, "\(res.body.string)")
                    let body = res.body.string
                    #expect(body.contains(#""year":{"code":"2015""#) || body.contains(#""code":"2015""#))
                }
                try await ctx.get("/api/v1/appeals?q=pothole") { res in
                    let page = try res.content.decode(AppealPage.self)
                    #expect(page.items.map(\.id) == [try pothole.requireID()])
                }
            }
        }

        @Test func badMappingOrFileChangesNothing() async throws {
            try await withOmbud { ctx, _ in
                let (csvPath, mappingPath) = try files()
                try Data(#"{"source": "x", "fields": {"externalId": "CASE_ENQUIRY_ID", "receivedAt": "OPENED"}}"#.utf8)
                    .write(to: URL(fileURLWithPath: mappingPath))
                await #expect(throws: AppError.self) { try await CSVImporter.run(path: csvPath, mapping: mappingPath, app: ctx.app) }
                do { _ = try await CSVImporter.run(path: csvPath, mapping: mappingPath, app: ctx.app) } catch let error as AppError {
                    #expect(error.field == "mapping: fields" && error.detail.contains("OPENED"))
                }
                try Data(#"{"source": "x", "fields": {"externalId": "a"}}"#.utf8).write(to: URL(fileURLWithPath: mappingPath))
                do { _ = try await CSVImporter.run(path: csvPath, mapping: mappingPath, app: ctx.app) } catch let error as AppError {
                    #expect(error.field == "mapping: fields.receivedAt")
                }
                await #expect(throws: AppError.self) { try await CSVImporter.run(path: csvPath + ".missing", mapping: mappingPath, app: ctx.app) }
                #expect(try await Appeal.query(on: ctx.app.db).count() == 0)
            }
        }
    }
}
