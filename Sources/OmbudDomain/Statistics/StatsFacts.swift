import Foundation

/// Every appeal as the statistics count it, held in memory as numbers: what the statistics query reads from `appeals`,
/// their questions and their latest rating. `run` answers a statistics question by one pass over them with the same
/// rules as the database query (the list's filters, the reader's scope, question groups counted once per appeal), and
/// `grid` counts them into map cells.
///
/// Strings and ids are interned into `Int32` numbers (-1: none), so an appeal is a few dozen bytes and a pass over a
/// million takes tens of milliseconds.
public struct StatsFacts: Sendable {
    public static let none: Int32 = -1
    /// A local day that is not set (no control date).
    public static let noDay = Int32.min

    public struct Question: Sendable, Equatable {
        public var topic, executorUnit, executorUser, result: Int32

        public init(topic: Int32, executorUnit: Int32, executorUser: Int32, result: Int32) {
            self.topic = topic
            self.executorUnit = executorUnit
            self.executorUser = executorUser
            self.result = result
        }
    }

    public struct Appeal: Sendable, Equatable {
        /// Moments as seconds since 1970; `closed` is NaN while the appeal is open.
        public var received: Double
        public var closed: Double
        /// Local days (`CivilDate.dayNumber`) of receipt and closing, in the statistics' time zone.
        public var receivedDay: Int32
        public var closedDay: Int32
        /// The control date and the registration deadline as day numbers (`noDay`: not set).
        public var controlDay: Int32
        public var dueDay: Int32
        public var status, channel, kind: Int32
        public var office, redirected, district: Int32
        public var underControl: Bool
        public var extended: Bool
        /// NaN where the appeal has no point.
        public var lat, lon: Double
        /// The latest rating's score, -1 without one.
        public var rating: Int8
        /// Where its questions are in `StatsFacts.questions`; set by `set`. Without references, so a pass over a
        /// million appeals copies plain bytes and counts no references.
        var firstQuestion: Int32 = 0
        var questionCount: Int32 = 0
        var alive = true

        public init(received: Double, closed: Double, receivedDay: Int32, closedDay: Int32, controlDay: Int32, dueDay: Int32,
                    status: Int32, channel: Int32, kind: Int32, office: Int32, redirected: Int32, district: Int32,
                    underControl: Bool, extended: Bool, lat: Double, lon: Double, rating: Int8) {
            self.received = received
            self.closed = closed
            self.receivedDay = receivedDay
            self.closedDay = closedDay
            self.controlDay = controlDay
            self.dueDay = dueDay
            self.status = status
            self.channel = channel
            self.kind = kind
            self.office = office
            self.redirected = redirected
            self.district = district
            self.underControl = underControl
            self.extended = extended
            self.lat = lat
            self.lon = lon
            self.rating = rating
        }

        public var isOpen: Bool { closed.isNaN }

        /// Closed after the control date (by the local day of closing).
        var closedLate: Bool { !isOpen && controlDay != StatsFacts.noDay && closedDay > controlDay }

        /// Overdue as the statistics count it: open past the control date, or closed after it.
        func isOverdue(today: Int32) -> Bool { isOpen ? pastDate(today: today) : closedLate }

        /// The list's `overdue`: under control and past the control date (the registration deadline without one).
        func pastDate(today: Int32) -> Bool {
            let date = controlDay != StatsFacts.noDay ? controlDay : dueDay
            return underControl && date != StatsFacts.noDay && date < today
        }
    }

    private(set) var strings: [String] = []
    private var stringNumbers: [String: Int32] = [:]
    private(set) var ids: [UUID] = []
    private var idNumbers: [UUID: Int32] = [:]
    private var appeals: [Appeal] = []
    /// Every appeal's questions, each appeal's together; a replaced appeal's old ones stay until a compaction.
    private var questions: [Question] = []
    private var unusedQuestions = 0
    private var slots: [UUID: Int] = [:]
    private var freeSlots: [Int] = []

    public init() {}

    public var count: Int { slots.count }

    public mutating func intern(_ text: String?) -> Int32 {
        guard let text, !text.isEmpty else { return Self.none }
        if let number = stringNumbers[text] { return number }
        let number = Int32(strings.count)
        strings.append(text)
        stringNumbers[text] = number
        return number
    }

    public mutating func intern(_ id: UUID?) -> Int32 {
        guard let id else { return Self.none }
        if let number = idNumbers[id] { return number }
        let number = Int32(ids.count)
        ids.append(id)
        idNumbers[id] = number
        return number
    }

    /// Puts, replaces or (with nil) removes an appeal and its questions.
    public mutating func set(_ id: UUID, _ appeal: Appeal?, questions list: [Question] = []) {
        if let slot = slots[id] {
            unusedQuestions += Int(appeals[slot].questionCount)
            appeals[slot].alive = false
            if appeal == nil {
                slots[id] = nil
                freeSlots.append(slot)
            }
        }
        guard var appeal else { return }
        appeal.alive = true
        appeal.firstQuestion = Int32(questions.count)
        appeal.questionCount = Int32(list.count)
        questions.append(contentsOf: list)
        if let slot = slots[id] ?? freeSlots.popLast() {
            appeals[slot] = appeal
            slots[id] = slot
        } else {
            slots[id] = appeals.count
            appeals.append(appeal)
        }
        if unusedQuestions > 10_000, unusedQuestions > questions.count / 2 { compact() }
    }

    /// Drops the questions of replaced and removed appeals.
    private mutating func compact() {
        var kept: [Question] = []
        kept.reserveCapacity(questions.count - unusedQuestions)
        for index in appeals.indices where appeals[index].alive {
            let first = Int(appeals[index].firstQuestion)
            appeals[index].firstQuestion = Int32(kept.count)
            kept.append(contentsOf: questions[first..<first + Int(appeals[index].questionCount)])
        }
        questions = kept
        unusedQuestions = 0
    }

    public func appeal(_ id: UUID) -> Appeal? { slots[id].map { appeals[$0] } }

    public func questions(of id: UUID) -> [Question] {
        guard let a = appeal(id) else { return [] }
        return Array(questions[Int(a.firstQuestion)..<Int(a.firstQuestion + a.questionCount)])
    }

    /// Each live appeal with its questions, without copying or counting references.
    private func forEach(_ body: (Appeal, UnsafeBufferPointer<Question>) -> Void) {
        appeals.withUnsafeBufferPointer { list in
            questions.withUnsafeBufferPointer { all in
                for a in list where a.alive {
                    body(a, UnsafeBufferPointer(rebasing: all[Int(a.firstQuestion)..<Int(a.firstQuestion + a.questionCount)]))
                }
            }
        }
    }

    // MARK: - Questions

    /// A statistics question in the facts' terms: the list's filters already resolved (units to ids, days to moments).
    public struct Query: Sendable {
        public var spec: StatsSpec
        public var today: CivilDate
        public var scope: AccessScope
        public var user: UUID
        public var statuses: [String]?
        public var channels: [String]?
        public var office: UUID?
        /// A topic and its subtree.
        public var topic: String?
        public var executorUnit: UUID?
        public var executorUser: UUID?
        public var box: MapGrid.Box?
        public var overdue: Bool?
        /// Receipt from this moment on, and before `to`.
        public var from: Date?
        public var to: Date?
        /// For `topic:N`: each topic's ancestor at level N (a topic not listed stands for itself).
        public var rollup: [String: String]

        public init(spec: StatsSpec, today: CivilDate, scope: AccessScope, user: UUID, statuses: [String]? = nil,
                    channels: [String]? = nil, office: UUID? = nil, topic: String? = nil, executorUnit: UUID? = nil,
                    executorUser: UUID? = nil, box: MapGrid.Box? = nil, overdue: Bool? = nil, from: Date? = nil, to: Date? = nil,
                    rollup: [String: String] = [:]) {
            self.spec = spec
            self.today = today
            self.scope = scope
            self.user = user
            self.statuses = statuses
            self.channels = channels
            self.office = office
            self.topic = topic
            self.executorUnit = executorUnit
            self.executorUser = executorUser
            self.box = box
            self.overdue = overdue
            self.from = from
            self.to = to
            self.rollup = rollup
        }
    }

    public struct Row: Sendable, Equatable {
        /// One code per dimension ("" where the appeal has none); periods as `StatsPeriod` codes.
        public var codes: [String]
        public var tally: StatsTally
    }

    public struct Result: Sendable, Equatable {
        public var rows: [Row]
        public var total: StatsTally
    }

    /// A set of interned numbers as a table of flags (a hash per appeal costs more than the rest of its test).
    private struct Mask {
        private var flags: [Bool]

        init(_ numbers: some Sequence<Int32>, size: Int) {
            flags = Array(repeating: false, count: size)
            for n in numbers where n >= 0 && Int(n) < size { flags[Int(n)] = true }
        }

        func contains(_ n: Int32) -> Bool { n >= 0 && Int(n) < flags.count && flags[Int(n)] }
    }

    /// The question's filters and scope in interned numbers; nil means "any".
    private struct Selection {
        var statuses: Mask?
        var channels: Mask?
        var office: Int32?
        var topics: Mask?
        var executorUnit: Int32?
        var executorUser: Int32?
        var box: MapGrid.Box?
        var overdue: Bool?
        var from: Double?
        var to: Double?
        var today: Int32
        var visible: Mask?
        var includesRoot = false
        var user: Int32

        var filtersQuestions: Bool { topics != nil || executorUnit != nil || executorUser != nil }

        /// Whether a question counts: the list's question filters choose the questions, not only the appeals.
        func counts(_ question: Question) -> Bool {
            if let topics, !topics.contains(question.topic) { return false }
            if let executorUnit, question.executorUnit != executorUnit { return false }
            if let executorUser, question.executorUser != executorUser { return false }
            return true
        }

        func admits(_ a: Appeal, _ questions: UnsafeBufferPointer<Question>) -> Bool {
            if let visible, !inScope(a, questions, visible) { return false }
            if let statuses, !statuses.contains(a.status) { return false }
            if let channels, !channels.contains(a.channel) { return false }
            if let office, a.office != office { return false }
            if let from, !(a.received >= from) { return false }
            if let to, !(a.received < to) { return false }
            if let box, !(a.lat >= box.minLat && a.lat < box.maxLat && a.lon >= box.minLon && a.lon < box.maxLon) { return false }
            if let overdue, a.pastDate(today: today) != overdue { return false }
            if filtersQuestions, !questions.contains(where: counts) { return false }
            return true
        }

        /// `AccessScope.allows` in numbers.
        private func inScope(_ a: Appeal, _ questions: UnsafeBufferPointer<Question>, _ visible: Mask) -> Bool {
            if questions.contains(where: { $0.executorUser == user }) { return true }
            if visible.contains(a.office) || visible.contains(a.redirected) { return true }
            if questions.contains(where: { visible.contains($0.executorUnit) }) { return true }
            return includesRoot && a.office == StatsFacts.none && a.redirected == StatsFacts.none
                && !questions.contains { $0.executorUnit != StatsFacts.none }
        }
    }

    private func selection(_ query: Query) -> Selection {
        // A value no appeal has interns to nothing: it selects no appeal, as the database would.
        func mask(_ values: [String]?) -> Mask? { values.map { Mask($0.compactMap { stringNumbers[$0] }, size: strings.count) } }
        func number(_ id: UUID?) -> Int32? { id.map { idNumbers[$0] ?? -2 } }
        var s = Selection(statuses: mask(query.statuses), channels: mask(query.channels), office: number(query.office),
                          executorUnit: number(query.executorUnit), executorUser: number(query.executorUser), box: query.box,
                          overdue: query.overdue, from: query.from?.timeIntervalSince1970, to: query.to?.timeIntervalSince1970,
                          today: Int32(query.today.dayNumber), user: idNumbers[query.user] ?? -2)
        if let topic = query.topic {
            let below = topic + "."
            s.topics = Mask(strings.indices.filter { strings[$0] == topic || strings[$0].hasPrefix(below) }.map { Int32($0) }, size: strings.count)
        }
        if case let .units(visible, includesRoot) = query.scope {
            s.visible = Mask(visible.compactMap { idNumbers[$0] }, size: ids.count)
            s.includesRoot = includesRoot
        }
        return s
    }

    /// Groups numbered by their key in order of first sight: open addressing with a multiplicative hash, since the
    /// standard library's SipHash for every appeal cost more than the rest of the pass.
    struct GroupTable {
        private var keys = [Int64](repeating: 0, count: 64)
        private var numbers = [Int32](repeating: -1, count: 64)
        /// The key of each group number.
        private(set) var order: [Int64] = []

        mutating func group(_ key: Int64) -> Int {
            let mask = keys.count - 1
            var index = Int(truncatingIfNeeded: (UInt64(bitPattern: key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
            while true {
                let number = numbers[index]
                if number < 0 { break }
                if keys[index] == key { return Int(number) }
                index = (index + 1) & mask
            }
            keys[index] = key
            numbers[index] = Int32(order.count)
            order.append(key)
            if order.count * 2 > keys.count { grow() }
            return order.count - 1
        }

        private mutating func grow() {
            let old = order
            keys = [Int64](repeating: 0, count: keys.count * 2)
            numbers = [Int32](repeating: -1, count: keys.count)
            order = []
            for key in old { _ = group(key) }
        }
    }

    /// The additive sums of one group, without the durations (kept apart, only when a percentile is asked for).
    private struct Sums {
        var count = 0, open = 0, overdue = 0, onTime = 0, extended = 0, redirected = 0, ratingSum = 0, rated = 0, satisfied = 0

        mutating func add(_ a: Appeal, today: Int32) {
            count += 1
            if a.isOpen { open += 1 } else if !a.closedLate { onTime += 1 }
            if a.isOverdue(today: today) { overdue += 1 }
            if a.extended { extended += 1 }
            if a.redirected != StatsFacts.none { redirected += 1 }
            if a.rating >= 0 {
                ratingSum += Int(a.rating)
                rated += 1
                if Int(a.rating) >= StatsTally.satisfiedScore { satisfied += 1 }
            }
        }

        var tally: StatsTally {
            var t = StatsTally()
            t.count = count
            t.open = open
            t.closed = count - open
            t.overdue = overdue
            t.closedOnTime = onTime
            t.extended = extended
            t.redirected = redirected
            t.ratingSum = ratingSum
            t.rated = rated
            t.satisfied = satisfied
            return t
        }
    }

    /// One pass's sums, kept in a value whose methods change it, so that the loop's accesses are checked when compiled
    /// rather than at every appeal.
    private struct Pass {
        let s: Selection
        let first: StatsDimension?
        let second: StatsDimension?
        let questionLevel: Bool
        let durations: Bool
        /// For `topic:N`, each topic number's rolled-up number (`none`: itself).
        let rolled: [Int32]
        var total = Sums()
        var totalDays: [Double] = []
        var table = GroupTable()
        var sums: [Sums] = []
        var days: [[Double]] = []
        /// The groups of the appeal at hand, to count it once in each.
        var seen: [Int] = []

        func code(_ dimension: StatsDimension, _ a: Appeal) -> Int32 {
            switch dimension {
            case .office: a.office
            case .district: a.district
            case .channel: a.channel
            case .status: a.status
            case .kind: a.kind
            default: a.receivedDay
            }
        }

        func code(_ dimension: StatsDimension, _ q: Question) -> Int32 {
            switch dimension {
            case .topic(nil): q.topic
            case .topic: q.topic >= 0 && Int(q.topic) < rolled.count && rolled[Int(q.topic)] != StatsFacts.none ? rolled[Int(q.topic)] : q.topic
            case .executor: q.executorUnit
            case .assignee: q.executorUser
            default: q.result
            }
        }

        func key(_ a: Appeal, _ q: Question?) -> Int64 {
            guard let first else { return 0 }
            func one(_ dimension: StatsDimension) -> Int32 {
                dimension.isQuestionLevel ? q.map { code(dimension, $0) } ?? StatsFacts.none : code(dimension, a)
            }
            return Int64(one(first)) << 32 | Int64(UInt32(bitPattern: second.map(one) ?? 0))
        }

        mutating func take(_ a: Appeal, _ questions: UnsafeBufferPointer<Question>) {
            guard s.admits(a, questions) else { return }
            total.add(a, today: s.today)
            let duration = durations && !a.isOpen ? (a.closed - a.received) / 86_400 : nil
            if let duration { totalDays.append(duration) }
            guard first != nil else { return }
            guard questionLevel else {
                add(table.group(key(a, nil)), a, duration)
                return
            }
            // Once per distinct group of the questions that count; an appeal without questions in the "not set"
            // group, unless a question filter asks for some.
            seen.removeAll(keepingCapacity: true)
            var any = false
            for q in questions where s.counts(q) {
                any = true
                let number = table.group(key(a, q))
                if !seen.contains(number) {
                    seen.append(number)
                    add(number, a, duration)
                }
            }
            if !any, !s.filtersQuestions { add(table.group(key(a, nil)), a, duration) }
        }

        private mutating func add(_ number: Int, _ a: Appeal, _ duration: Double?) {
            if number == sums.count {
                sums.append(Sums())
                days.append([])
            }
            sums[number].add(a, today: s.today)
            if let duration { days[number].append(duration) }
        }
    }

    /// The figures of a statistics question: its groups and its total (which counts appeals, not appeal-and-group
    /// pairs, where a question dimension puts an appeal in several groups).
    public func run(_ query: Query) -> Result {
        let dimensions = query.spec.groupBy
        // Rolled-up topics that no question names get numbers below -1.
        var extra: [String] = []
        var rolled = [Int32](repeating: Self.none, count: dimensions.contains { if case .topic(_?) = $0 { true } else { false } } ? strings.count : 0)
        if !rolled.isEmpty {
            var extraNumbers: [String: Int32] = [:]
            for (code, ancestor) in query.rollup {
                guard let topic = stringNumbers[code] else { continue }
                if let number = stringNumbers[ancestor] ?? extraNumbers[ancestor] {
                    rolled[Int(topic)] = number
                } else {
                    let number = Int32(-2 - extra.count)
                    extra.append(ancestor)
                    extraNumbers[ancestor] = number
                    rolled[Int(topic)] = number
                }
            }
        }
        var pass = Pass(s: selection(query), first: dimensions.first, second: dimensions.count > 1 ? dimensions[1] : nil,
                        questionLevel: dimensions.contains(where: \.isQuestionLevel),
                        durations: query.spec.measures.contains(where: \.needsDurations), rolled: rolled)
        appeals.withUnsafeBufferPointer { list in
            questions.withUnsafeBufferPointer { all in
                for a in list where a.alive {
                    pass.take(a, UnsafeBufferPointer(rebasing: all[Int(a.firstQuestion)..<Int(a.firstQuestion + a.questionCount)]))
                }
            }
        }

        // Numbers back to codes; days into the asked periods, merging the groups that fall together.
        var periodCodes: [Int64: String] = [:]
        func text(_ dimension: StatsDimension, _ number: Int32) -> String {
            if dimension.isPeriod {
                let slot = Int64(number) << 8 | Int64(StatsDimension.names.firstIndex(of: dimension.key) ?? 0)
                if let code = periodCodes[slot] { return code }
                let code = StatsPeriod.code(dimension, of: CivilDate(dayNumber: Int(number))) ?? ""
                periodCodes[slot] = code
                return code
            }
            if number == Self.none { return "" }
            if number < -1 { return extra[Int(-2 - number)] }
            switch dimension {
            case .office, .executor, .assignee: return ids[Int(number)].uuidString
            default: return strings[Int(number)]
            }
        }
        var merged: [[String]: StatsTally] = [:]
        for (number, k) in pass.table.order.enumerated() {
            let numbers = [Int32(truncatingIfNeeded: k >> 32), Int32(truncatingIfNeeded: k)]
            let codes = dimensions.indices.map { text(dimensions[$0], numbers[$0]) }
            var tally = pass.sums[number].tally
            tally.daysToClose = pass.days[number]
            merged[codes, default: StatsTally()] += tally
        }
        var all = pass.total.tally
        all.daysToClose = pass.totalDays
        return Result(rows: merged.map { Row(codes: $0.key, tally: $0.value) }, total: all)
    }

    /// The south, west, north and east ends of the selection's points; nil when none has a point.
    public func extent(_ query: Query) -> (minLat: Double, minLon: Double, maxLat: Double, maxLon: Double)? {
        let s = selection(query)
        var box: (minLat: Double, minLon: Double, maxLat: Double, maxLon: Double)?
        forEach { a, questions in
            guard !a.lat.isNaN, !a.lon.isNaN, s.admits(a, questions) else { return }
            guard let b = box else {
                box = (a.lat, a.lon, a.lat, a.lon)
                return
            }
            box = (min(b.minLat, a.lat), min(b.minLon, a.lon), max(b.maxLat, a.lat), max(b.maxLon, a.lon))
        }
        return box
    }

    /// The appeals of the question's selection with a point in each cell of `cells` (appeals and those overdue, as the
    /// statistics count them), by row and column.
    public func grid(_ query: Query, cells: MapGrid) -> [(y: Int, x: Int, count: Int, overdue: Int)] {
        var q = query
        q.box = cells.box
        let s = selection(q)
        var table = GroupTable()
        var counts: [(count: Int, overdue: Int)] = []
        forEach { a, questions in
            guard s.admits(a, questions) else { return }
            let (y, x) = cells.cell(lat: a.lat, lon: a.lon)
            let number = table.group(Int64(y) << 32 | Int64(UInt32(truncatingIfNeeded: x)))
            if number == counts.count { counts.append((0, 0)) }
            counts[number].count += 1
            if a.isOverdue(today: s.today) { counts[number].overdue += 1 }
        }
        return zip(table.order, counts).map { key, cell in
            (y: Int(Int32(truncatingIfNeeded: key >> 32)), x: Int(Int32(truncatingIfNeeded: key)), count: cell.count, overdue: cell.overdue)
        }
    }
}
