import OmbudDomain
import Testing

@Suite struct WorkflowDiagramTests {
    let diagram = WorkflowDiagram(.federalLaw59)

    func node(_ key: String) -> WorkflowDiagram.Node { diagram.nodes.first { $0.key == key }! }

    @Test func statesStandInColumnsByTheirDistanceFromReceipt() {
        #expect(node("received").column == 0)
        #expect(node("registered").column == 1)
        #expect(node("assigned").column == 2 && node("redirected").column == 2)
        #expect(node("in-progress").column == 3)
        #expect(node("closed").column > node("answered").column)
        // Every state is drawn once, and no two boxes overlap.
        #expect(diagram.nodes.count == WorkflowDefinition.federalLaw59.states.count)
        let places = diagram.nodes.map { "\($0.x),\($0.y)" }
        #expect(Set(places).count == places.count)
        #expect(diagram.nodes.allSatisfy { $0.x + WorkflowDiagram.nodeWidth <= diagram.width && $0.y + WorkflowDiagram.nodeHeight <= diagram.height })
    }

    @Test func reworkIsABackArcAndWithdrawalIsListedNotDrawnFromEveryState() {
        let rework = diagram.edges.first { $0.from == "on-approval" && $0.to == "answer-drafted" }
        #expect(rework?.back == true)
        #expect(diagram.edges.first { $0.from == "registered" && $0.to == "assigned" }?.back == false)
        #expect(diagram.fromAnyOpenState == ["withdrawn"])
        #expect(!diagram.edges.contains { $0.to == "withdrawn" })
        #expect(diagram.edges.allSatisfy { $0.path.hasPrefix("M") && $0.path.contains(" C") })
    }
}
