import Testing
@testable import OmbudDomain

struct CSVReaderTests {
    @Test func parsesPlainRows() throws {
        #expect(try CSVReader.parse("a,b,c\n1,2,3\n") == [["a", "b", "c"], ["1", "2", "3"]])
    }

    @Test func quotedFieldKeepsNewlinesCommasAndEscapedQuotes() throws {
        // setup
        let text = "id,text\n1,\"Первая строка,\nвторая \"\"в кавычках\"\"\"\n2,x"
        // act
        let rows = try CSVReader.parse(text)
        // check
        #expect(rows == [["id", "text"], ["1", "Первая строка,\nвторая \"в кавычках\""], ["2", "x"]])
    }

    @Test func acceptsCRLFAndStripsBOM() throws {
        #expect(try CSVReader.parse("\u{FEFF}name,phone\r\nИван,\"8 921\r\n555\"\r\n") == [["name", "phone"], ["Иван", "8 921\r\n555"]])
    }

    @Test func keepsEmptyFields() throws {
        #expect(try CSVReader.parse(",a,,\n\"\",,x") == [["", "a", "", ""], ["", "", "x"]])
    }

    @Test func skipsBlankLines() throws {
        #expect(try CSVReader.parse("a\n\n\r\nb\n\n") == [["a"], ["b"]])
        #expect(try CSVReader.parse("") == [])
    }

    @Test func unterminatedQuoteReportsItsStartLine() {
        #expect(throws: CSVError.unterminatedQuote(line: 2)) {
            try CSVReader.parse("a,b\n1,\"never\nclosed")
        }
    }

    @Test func textAfterClosingQuoteIsRejected() {
        #expect(throws: CSVError.unexpectedCharacterAfterQuote(line: 1)) {
            try CSVReader.parse("\"a\"b,c")
        }
    }

    @Test func streamingMatchesParse() throws {
        // setup
        var reader = CSVReader(text: "x,y\n1,2\n3,4")
        // act
        var rows: [[String]] = []
        while let row = try reader.nextRow() { rows.append(row) }
        // check
        #expect(rows == [["x", "y"], ["1", "2"], ["3", "4"]])
        #expect(try reader.nextRow() == nil)
    }

    @Test func recordsUseHeaderAndPadShortRows() throws {
        // act
        let records = try CSVReader.records("ФИО, Телефон \nИванов И.И.,89215551234\nПетров\n")
        // check
        #expect(records == [["ФИО": "Иванов И.И.", "Телефон": "89215551234"], ["ФИО": "Петров", "Телефон": ""]])
    }

    @Test func parsesManyLongRowsQuickly() throws {
        // setup
        let body = String(repeating: "Жалоба на освещение подъезда, \"\"срочно\"\". ", count: 40)
        let text = "id,text\n" + (1...12_000).map { "\($0),\"\(body)\"" }.joined(separator: "\r\n")
        // act
        let clock = ContinuousClock()
        var rows: [[String]] = []
        let elapsed = try clock.measure { rows = try CSVReader.parse(text) }
        // check
        #expect(rows.count == 12_001)
        #expect(rows[12_000][1].hasPrefix("Жалоба на освещение подъезда, \"срочно\"."))
        #expect(elapsed < .seconds(10), "debug builds are slow; release is far under a second")
    }
}
