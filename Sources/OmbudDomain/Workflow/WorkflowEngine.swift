/// What the engine needs to know about an appeal to judge a transition.
public struct AppealFacts: Sendable {
    public var state: String
    public var kind: AppealKind
    public var questionResults: [QuestionResult?]
    /// Codes of the unit a complaint is about (empty when it is not about a unit).
    public var complainedUnitCode: String?

    public init(state: String, kind: AppealKind, questionResults: [QuestionResult?], complainedUnitCode: String? = nil) {
        self.state = state
        self.kind = kind
        self.questionResults = questionResults
        self.complainedUnitCode = complainedUnitCode
    }
}

public struct TransitionRequest: Sendable {
    public var to: String
    public var roles: Set<String>
    public var article11Ground: Article11Ground?
    /// The target unit's code followed by the codes of the units above it.
    public var targetUnitPath: [String]
    public var reason: String?
    public var hasDuplicateOf: Bool

    public init(to: String, roles: Set<String>, article11Ground: Article11Ground? = nil, targetUnitPath: [String] = [],
                reason: String? = nil, hasDuplicateOf: Bool = false) {
        self.to = to
        self.roles = roles
        self.article11Ground = article11Ground
        self.targetUnitPath = targetUnitPath
        self.reason = reason
        self.hasDuplicateOf = hasDuplicateOf
    }
}

public enum WorkflowError: Error, Equatable, Sendable {
    case unknownState(String)
    case notAllowed(from: String, to: String, allowed: [String])
    case roleNotPermitted(to: String)
    case missing(field: String)
    case complaintToComplainedUnit(unit: String)
    case questionsWithoutFinalResult(count: Int)
}

public enum WorkflowEngine {
    /// Target states reachable from the current state by these roles.
    public static func allowedTargets(_ definition: WorkflowDefinition, from state: String, roles: Set<String>) -> [String] {
        var seen = Set<String>()
        return definition.transitions(from: state)
            .filter { !$0.roles.isDisjoint(with: roles) }
            .map(\.to)
            .filter { seen.insert($0).inserted }
    }

    /// Judges a transition; returns the definition's transition when every rule holds.
    @discardableResult
    public static func check(_ definition: WorkflowDefinition, facts: AppealFacts,
                             request: TransitionRequest) throws(WorkflowError) -> WorkflowDefinition.Transition {
        guard definition.state(request.to) != nil else { throw .unknownState(request.to) }
        let candidates = definition.transitions(from: facts.state).filter { $0.to == request.to }
        guard !candidates.isEmpty else {
            throw .notAllowed(from: facts.state, to: request.to,
                              allowed: allowedTargets(definition, from: facts.state, roles: request.roles))
        }
        guard let transition = candidates.first(where: { !$0.roles.isDisjoint(with: request.roles) }) else {
            throw .roleNotPermitted(to: request.to)
        }
        for requirement in transition.requires {
            try check(requirement, facts: facts, request: request)
        }
        return transition
    }

    private static func check(_ requirement: WorkflowDefinition.Requirement, facts: AppealFacts,
                              request: TransitionRequest) throws(WorkflowError) {
        switch requirement {
        case .article11Ground:
            guard request.article11Ground != nil else { throw .missing(field: "article11Ground") }
        case .reason:
            guard let reason = request.reason, !reason.trimmed().isEmpty else {
                throw .missing(field: "reason")
            }
        case .duplicateOf:
            guard request.hasDuplicateOf else { throw .missing(field: "duplicateOf") }
        case .targetUnit:
            guard let target = request.targetUnitPath.first else { throw .missing(field: "unitCode") }
            // A complaint never goes to the body it complains about, nor to any of its subdivisions.
            if facts.kind == .complaint, let complained = facts.complainedUnitCode,
               request.targetUnitPath.contains(complained) {
                throw .complaintToComplainedUnit(unit: target)
            }
        case .allQuestionsFinal:
            let pending = facts.questionResults.filter { !($0?.isFinal ?? false) }.count
            guard !facts.questionResults.isEmpty, pending == 0 else {
                throw .questionsWithoutFinalResult(count: max(pending, 1))
            }
        }
    }
}

import Foundation
