extension WorkflowDefinition {
    /// The shipped default: the review cycle of Federal Law 59-FZ.
    public static let federalLaw59: WorkflowDefinition = {
        let admin: Set<String> = ["administrator", "supervisor"]
        let reception = admin.union(["reception"])
        let executor = admin.union(["executor", "lawyer", "approver"])
        let approver = admin.union(["approver"])
        let responder = admin.union(["responder", "reception"])
        let everyone = reception.union(executor).union(approver).union(responder)

        return WorkflowDefinition(
            key: "59-fz",
            initial: "received",
            states: [
                .init("received"),
                .init("registered"),
                .init("redirected", terminal: true, questionResult: .redirected),
                .init("left-without-answer", terminal: true, questionResult: .leftWithoutAnswer),
                .init("returned", terminal: true, questionResult: .leftWithoutAnswer),
                .init("correspondence-terminated", terminal: true, questionResult: .leftWithoutAnswer),
                .init("merged", terminal: true),
                .init("assigned"),
                .init("in-progress"),
                .init("awaiting-external"),
                .init("answer-drafted"),
                .init("on-approval"),
                .init("answered", open311: .closed, answered: true),
                .init("feedback", open311: .closed, answered: true),
                .init("closed", terminal: true, answered: true),
                .init("withdrawn", terminal: true),
            ],
            transitions: [
                .init(from: ["received"], to: "registered", roles: reception),
                .init(from: ["registered"], to: "redirected", roles: reception, requires: [.targetUnit]),
                .init(from: ["registered"], to: "left-without-answer", roles: reception.union(approver), requires: [.article11Ground]),
                .init(from: ["registered"], to: "returned", roles: reception.union(approver), requires: [.reason]),
                .init(from: ["registered"], to: "correspondence-terminated", roles: approver, requires: [.reason]),
                .init(from: ["registered"], to: "merged", roles: reception, requires: [.duplicateOf]),
                .init(from: ["registered"], to: "assigned", roles: reception.union(approver)),
                // Answered on the spot (a "137" operator's information call): closed at once with every question's result.
                .init(from: ["registered"], to: "closed", roles: reception, requires: [.allQuestionsFinal]),
                .init(from: ["assigned", "awaiting-external", "feedback"], to: "in-progress", roles: executor.union(responder)),
                .init(from: ["in-progress"], to: "awaiting-external", roles: executor),
                .init(from: ["in-progress"], to: "answer-drafted", roles: executor),
                .init(from: ["answer-drafted"], to: "on-approval", roles: executor),
                .init(from: ["on-approval"], to: "answer-drafted", roles: approver, requires: [.reason]),
                .init(from: ["on-approval"], to: "answered", roles: approver, requires: [.allQuestionsFinal]),
                .init(from: ["answered"], to: "feedback", roles: responder),
                .init(from: ["answered", "feedback"], to: "closed", roles: responder),
                .init(from: ["*"], to: "withdrawn", roles: everyone, requires: [.reason]),
            ])
    }()
}
