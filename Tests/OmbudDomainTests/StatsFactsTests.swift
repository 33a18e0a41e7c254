import Foundation
import Testing
import OmbudDomain

@Suite struct StatsFactsTests {
    let today = CivilDate(year: 2026, month: 12, day: 7)!
    let office = UUID()
    let other = UUID()
    let user = UUID()

    /// Three appeals: one open past its control date with two questions in one branch and one in another; one closed
    /// late, rated 5; one closed on time in another office, redirected, with no questions.
    func sample() -> (StatsFacts, [UUID]) {
        var facts = StatsFacts()
        let day = Int32(today.dayNumber)
        func appeal(closedAfter: Double?, control: Int32, office: UUID, redirected: UUID? = nil, topics: [String], rating: Int8 = -1)
            -> (StatsFacts.Appeal, [StatsFacts.Question]) {
            let received = today.adding(days: -10).start(in: TimeZone(identifier: "UTC")!).timeIntervalSince1970
            let questions = topics.map { StatsFacts.Question(topic: facts.intern($0), executorUnit: facts.intern(office), executorUser: StatsFacts.none,
                                                              result: StatsFacts.none) }
            return (StatsFacts.Appeal(received: received, closed: closedAfter.map { received + $0 * 86_400 } ?? .nan, receivedDay: day - 10,
                                     closedDay: closedAfter.map { day - 10 + Int32($0) } ?? StatsFacts.noDay, controlDay: control, dueDay: day - 9,
                                     status: facts.intern(closedAfter == nil ? "registered" : "answered"), channel: facts.intern("phone"),
                                     kind: facts.intern("statement"), office: facts.intern(office), redirected: facts.intern(redirected),
                                     district: facts.intern("Невский"), underControl: closedAfter == nil, extended: false, lat: .nan, lon: .nan,
                                     rating: rating), questions)
        }
        let ids = [UUID(), UUID(), UUID()]
        for (id, (fact, questions)) in zip(ids, [appeal(closedAfter: nil, control: day - 1, office: office, topics: ["0005.0001", "0005.0002", "0003.0001"]),
                                                 appeal(closedAfter: 8, control: day - 5, office: office, topics: ["0005.0001"], rating: 5),
                                                 appeal(closedAfter: 2, control: day, office: other, redirected: office, topics: [])]) {
            facts.set(id, fact, questions: questions)
        }
        return (facts, ids)
    }

    func query(_ groupBy: [StatsDimension], scope: AccessScope = .all) -> StatsFacts.Query {
        StatsFacts.Query(spec: StatsSpec(groupBy: groupBy, measures: StatsMeasure.allCases), today: today, scope: scope, user: user,
                         rollup: ["0005.0001": "0005", "0005.0002": "0005", "0003.0001": "0003"])
    }

    @Test func questionGroupsCountAnAppealOnceAndTheTotalCountsAppeals() {
        let (facts, _) = sample()
        let result = facts.run(query([.topic(level: 1)]))
        let counts = Dictionary(uniqueKeysWithValues: result.rows.map { ($0.codes[0], $0.tally.count) })
        // Two questions of one appeal under 0005 count it once there; the appeal without questions is "not set".
        #expect(counts == ["0005": 2, "0003": 1, "": 1])
        #expect(result.total.count == 3 && result.total.open == 1 && result.total.closed == 2)
        // Overdue: the open one past its date and the one closed after it; the rating and the days to close.
        #expect(result.total.overdue == 2 && result.total.closedOnTime == 1 && result.total.redirected == 1)
        #expect(result.total.rated == 1 && result.total.ratingSum == 5 && result.total.daysToClose.sorted() == [2, 8])
        let byMonth = facts.run(query([.month, .status]))
        #expect(Set(byMonth.rows.map { $0.codes }) == [["2026-11", "registered"], ["2026-11", "answered"]])
    }

    @Test func filtersScopeAndRemovalApply() throws {
        var (facts, ids) = sample()
        var filtered = query([.topic(level: nil)])
        filtered.topic = "0005"
        // The topic filter chooses the questions that count, not only the appeals.
        #expect(Set(facts.run(filtered).rows.map { $0.codes[0] }) == ["0005.0001", "0005.0002"])
        filtered = query([])
        filtered.overdue = true
        #expect(facts.run(filtered).total.count == 1)
        // A unit sees its own office's appeals and those redirected to it; an unknown unit sees nothing.
        #expect(facts.run(query([], scope: .units([office], includesRoot: false))).total.count == 3)
        #expect(facts.run(query([], scope: .units([other], includesRoot: false))).total.count == 1)
        #expect(facts.run(query([], scope: .units([UUID()], includesRoot: false))).total.count == 0)
        facts.set(ids[0], nil)
        #expect(facts.count == 2 && facts.run(query([])).total.count == 2)
        // A replaced appeal counts with its new questions only.
        let replaced = try #require(facts.appeal(ids[1]))
        let topic = facts.intern("0003.0001")
        facts.set(ids[1], replaced, questions: [StatsFacts.Question(topic: topic, executorUnit: StatsFacts.none, executorUser: StatsFacts.none,
                                                                     result: StatsFacts.none)])
        #expect(facts.questions(of: ids[1]).map(\.topic) == [topic])
        #expect(Set(facts.run(query([.topic(level: 1)])).rows.map { $0.codes[0] }) == ["0003", ""])
    }
}
