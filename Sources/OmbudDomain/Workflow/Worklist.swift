/// The worklists (cartables) staff choose from, and which tasks each one holds. The stage lists name states of the
/// 59-FZ workflow (`WorkflowDefinition.federalLaw59`).
public enum Worklist: String, CaseIterable, Sendable {
    case mine, unit, registration, approval, feedback, overdue, promises, all

    /// Whose tasks: given to me (or to my units without a person), my units' and those below, or all the reader may see.
    public enum Assignee: String, Sendable { case mine, unit, all }

    public var assignee: Assignee {
        switch self {
        case .mine: .mine
        case .unit: .unit
        // Overdue work is everything overdue the reader may see: the tab counts what the overdue filter of "all" counts.
        case .registration, .approval, .feedback, .overdue, .promises, .all: .all
        }
    }

    /// The states whose tasks the list holds (comma-separated): awaiting registration, awaiting approval, and the
    /// call-backs — answered and waiting for the call (by the day it is due), or rated on the portal and waiting to close.
    public var state: String? {
        switch self {
        case .registration: "received"
        case .approval: "on-approval"
        case .feedback: "answered,feedback"
        default: nil
        }
    }

    public var overdueOnly: Bool { self == .overdue }

    /// "Promises due" lists promises, not tasks: the open ones due by the day their reminder goes out, and the overdue.
    public var listsPromises: Bool { self == .promises }

    public static func promisesDue(today: CivilDate) -> CivilDate {
        today.adding(days: PromiseRules.remindBefore.amount)
    }
}
