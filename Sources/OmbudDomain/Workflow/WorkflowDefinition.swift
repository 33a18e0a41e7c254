/// A workflow as data: states, transitions, who may take them and what they require. Another organisation ships
/// another definition; the engine does not know the 59-FZ states by name.
public struct WorkflowDefinition: Sendable, Codable, Equatable {
    public enum Open311Status: String, Sendable, Codable { case open, closed }

    public struct State: Sendable, Codable, Equatable {
        public let key: String
        public let terminal: Bool
        public let open311: Open311Status
        /// Counted as answered for reporting (the applicant got an answer on the merits).
        public let answered: Bool
        /// The result this outcome gives every question that has none yet (a redirect redirects them all).
        public let questionResult: QuestionResult?

        public init(_ key: String, terminal: Bool = false, open311: Open311Status? = nil, answered: Bool = false,
                    questionResult: QuestionResult? = nil) {
            self.key = key
            self.terminal = terminal
            self.open311 = open311 ?? (terminal ? .closed : .open)
            self.answered = answered
            self.questionResult = questionResult
        }

        /// Under deadline control: an answer is still owed.
        public var underControl: Bool { !terminal && !answered }
    }

    /// What a transition demands before it may be taken.
    public enum Requirement: String, Sendable, Codable, CaseIterable {
        /// An art. 11 ground must be given.
        case article11Ground
        /// A target unit must be given, and a complaint must not go to the unit it complains about.
        case targetUnit
        /// Every question must carry a final result.
        case allQuestionsFinal
        /// A free-text reason must be given.
        case reason
        /// The appeal it duplicates must be named.
        case duplicateOf
    }

    public struct Transition: Sendable, Codable, Equatable {
        /// Source states; `*` means any non-terminal state.
        public let from: [String]
        public let to: String
        public let roles: Set<String>
        public let requires: [Requirement]

        public init(from: [String], to: String, roles: Set<String>, requires: [Requirement] = []) {
            self.from = from
            self.to = to
            self.roles = roles
            self.requires = requires
        }
    }

    public let key: String
    public let initial: String
    public let states: [State]
    public let transitions: [Transition]

    public init(key: String, initial: String, states: [State], transitions: [Transition]) {
        self.key = key
        self.initial = initial
        self.states = states
        self.transitions = transitions
    }

    public func state(_ key: String) -> State? { states.first { $0.key == key } }

    public func isOpen(_ key: String) -> Bool { !(state(key)?.terminal ?? true) }

    public var openStates: [String] { states.filter { !$0.terminal }.map(\.key) }

    /// Transitions leaving a state, in definition order.
    public func transitions(from key: String) -> [Transition] {
        guard let state = state(key), !state.terminal else { return [] }
        return transitions.filter { $0.from.contains(key) || $0.from.contains("*") }
    }

    public enum DefinitionError: Error, Equatable, Sendable {
        case unknownInitialState(String)
        case duplicateState(String)
        case unknownState(String)
        case transitionFromTerminal(String)
    }

    /// Checks the definition is coherent before an organisation installs it.
    public func validate() throws(DefinitionError) {
        var seen = Set<String>()
        for state in states where !seen.insert(state.key).inserted { throw .duplicateState(state.key) }
        guard seen.contains(initial) else { throw .unknownInitialState(initial) }
        for transition in transitions {
            guard seen.contains(transition.to) else { throw .unknownState(transition.to) }
            for source in transition.from where source != "*" {
                guard let state = state(source) else { throw .unknownState(source) }
                if state.terminal { throw .transitionFromTerminal(source) }
            }
        }
    }
}
