import Testing
@testable import OmbudDomain

@Suite struct WorkflowTests {
    let flow = WorkflowDefinition.federalLaw59
    let admin: Set<String> = ["administrator"]

    func facts(_ state: String, kind: AppealKind = .statement, results: [QuestionResult?] = [.explained], complained: String? = nil) -> AppealFacts {
        AppealFacts(state: state, kind: kind, questionResults: results, complainedUnitCode: complained)
    }

    @Test func shippedDefinitionIsCoherent() throws {
        try flow.validate()
        #expect(flow.initial == "received")
        #expect(flow.state("closed")?.terminal == true)
        #expect(flow.state("answered")?.open311 == .closed)
        #expect(flow.state("in-progress")?.open311 == .open)
        #expect(flow.state("redirected")?.questionResult == .redirected)
        #expect(flow.state("returned")?.questionResult == .leftWithoutAnswer)
        #expect(flow.state("answered")?.underControl == false)
        #expect(flow.state("awaiting-external")?.underControl == true)
        #expect(flow.state("withdrawn")?.questionResult == nil)
    }

    @Test func happyPathThroughEveryStage() throws {
        let path = ["received", "registered", "assigned", "in-progress", "awaiting-external", "in-progress", "answer-drafted",
                    "on-approval", "answered", "feedback", "closed"]
        for (from, to) in zip(path, path.dropFirst()) {
            try WorkflowEngine.check(flow, facts: facts(from), request: TransitionRequest(to: to, roles: admin))
        }
    }

    @Test func invalidTransitionListsTheAllowedOnes() {
        #expect(throws: WorkflowError.notAllowed(from: "received", to: "closed", allowed: ["registered", "withdrawn"])) {
            try WorkflowEngine.check(flow, facts: facts("received"), request: TransitionRequest(to: "closed", roles: admin))
        }
    }

    @Test func withdrawnFromAnyNonTerminalStateButNotFromTerminal() throws {
        for state in flow.openStates {
            try WorkflowEngine.check(flow, facts: facts(state), request: TransitionRequest(to: "withdrawn", roles: admin, reason: "отозвано"))
        }
        #expect(throws: WorkflowError.self) {
            try WorkflowEngine.check(flow, facts: facts("closed"), request: TransitionRequest(to: "withdrawn", roles: admin, reason: "x"))
        }
    }

    @Test func complaintIsNeverRedirectedToTheUnitItComplainsAbout() throws {
        let request = TransitionRequest(to: "redirected", roles: admin, targetUnitPath: ["dept-roads", "city-admin"])
        #expect(throws: WorkflowError.complaintToComplainedUnit(unit: "dept-roads")) {
            try WorkflowEngine.check(flow, facts: facts("registered", kind: .complaint, complained: "city-admin"), request: request)
        }
        // A statement about the same body may go there.
        try WorkflowEngine.check(flow, facts: facts("registered", kind: .statement, complained: "city-admin"), request: request)
        // A complaint may go elsewhere.
        try WorkflowEngine.check(flow, facts: facts("registered", kind: .complaint, complained: "police"), request: request)
    }

    @Test func answeredRequiresAFinalResultOnEveryQuestion() throws {
        #expect(throws: WorkflowError.questionsWithoutFinalResult(count: 1)) {
            try WorkflowEngine.check(flow, facts: facts("on-approval", results: [.explained, .inWork]), request: TransitionRequest(to: "answered", roles: admin))
        }
        #expect(throws: WorkflowError.questionsWithoutFinalResult(count: 1)) {
            try WorkflowEngine.check(flow, facts: facts("on-approval", results: [nil]), request: TransitionRequest(to: "answered", roles: admin))
        }
        try WorkflowEngine.check(flow, facts: facts("on-approval", results: [.supported, .explained]), request: TransitionRequest(to: "answered", roles: admin))
    }

    @Test func leftWithoutAnswerNeedsAnArticle11Ground() throws {
        #expect(throws: WorkflowError.missing(field: "article11Ground")) {
            try WorkflowEngine.check(flow, facts: facts("registered"), request: TransitionRequest(to: "left-without-answer", roles: admin))
        }
        try WorkflowEngine.check(flow, facts: facts("registered"),
                                 request: TransitionRequest(to: "left-without-answer", roles: admin, article11Ground: .obsceneOrThreatening))
    }

    @Test func rejectionReturnsToDraftWithAReason() throws {
        #expect(throws: WorkflowError.missing(field: "reason")) {
            try WorkflowEngine.check(flow, facts: facts("on-approval"), request: TransitionRequest(to: "answer-drafted", roles: admin))
        }
        try WorkflowEngine.check(flow, facts: facts("on-approval"), request: TransitionRequest(to: "answer-drafted", roles: ["approver"], reason: "уточнить"))
    }

    @Test func rolesComeFromTheDefinition() {
        #expect(throws: WorkflowError.roleNotPermitted(to: "answered")) {
            try WorkflowEngine.check(flow, facts: facts("on-approval"), request: TransitionRequest(to: "answered", roles: ["journalist"]))
        }
        #expect(WorkflowEngine.allowedTargets(flow, from: "registered", roles: ["journalist"]).isEmpty)
    }

    @Test func anotherOrganisationCanShipAnotherDefinition() throws {
        let iran = WorkflowDefinition(key: "137", initial: "reception", states: [.init("reception"), .init("follow-up"), .init("done", terminal: true)],
                                      transitions: [.init(from: ["reception"], to: "follow-up", roles: ["operator"]),
                                                    .init(from: ["follow-up"], to: "done", roles: ["operator"])])
        try iran.validate()
        try WorkflowEngine.check(iran, facts: facts("reception"), request: TransitionRequest(to: "follow-up", roles: ["operator"]))
        let broken = WorkflowDefinition(key: "x", initial: "a", states: [.init("a"), .init("b", terminal: true)],
                                        transitions: [.init(from: ["b"], to: "a", roles: [])])
        #expect(throws: WorkflowDefinition.DefinitionError.transitionFromTerminal("b")) { try broken.validate() }
    }
}
