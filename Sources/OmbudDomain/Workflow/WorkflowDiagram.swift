/// A workflow drawn as boxes and arrows, left to right: each state in the column of its distance from the initial
/// state, the states of a column one under another. An arrow that goes back to an earlier column (a rework, a
/// reopening) is drawn as an arc under the boxes; a transition open from every open state ("withdrawn") is not drawn
/// as a dozen arrows but listed with its target. Pure geometry: the page turns it into SVG.
public struct WorkflowDiagram: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public let key: String
        public let column: Int
        public let row: Int
        public let x: Int
        public let y: Int
        public let terminal: Bool
    }

    public struct Edge: Sendable, Equatable {
        public let from: String
        public let to: String
        /// Towards an earlier (or the same) column.
        public let back: Bool
        /// An SVG path, from the edge of one box to the edge of the other.
        public let path: String
    }

    public let nodes: [Node]
    public let edges: [Edge]
    /// Targets reachable from every open state.
    public let fromAnyOpenState: [String]
    public let width: Int
    public let height: Int

    public static let nodeWidth = 170, nodeHeight = 40, columnGap = 50, rowGap = 24, margin = 10

    public init(_ definition: WorkflowDefinition) {
        // Columns by breadth-first distance from the initial state, over the drawn transitions.
        let drawn = definition.transitions.filter { !$0.from.contains("*") }
        var column: [String: Int] = [definition.initial: 0]
        var queue = [definition.initial]
        while !queue.isEmpty {
            let state = queue.removeFirst()
            for transition in drawn where transition.from.contains(state) && column[transition.to] == nil {
                column[transition.to] = column[state]! + 1
                queue.append(transition.to)
            }
        }
        // A terminal state stands after the furthest state that leads to it: "closed" is the end of the line even though
        // an appeal answered on the spot reaches it from "registered".
        for state in definition.states where state.terminal {
            let sources = drawn.filter { $0.to == state.key }.flatMap(\.from).compactMap { column[$0] }
            if let furthest = sources.max(), sources.count > 1 { column[state.key] = furthest + 1 }
        }
        // States reached only by a transition from any state (or not at all) go in the last column.
        let last = (column.values.max() ?? 0) + 1
        var rows: [Int: Int] = [:]
        var nodes: [Node] = []
        for state in definition.states {
            let c = column[state.key] ?? last
            let r = rows[c, default: 0]
            rows[c] = r + 1
            nodes.append(Node(key: state.key, column: c, row: r,
                              x: Self.margin + c * (Self.nodeWidth + Self.columnGap), y: Self.margin + r * (Self.nodeHeight + Self.rowGap),
                              terminal: state.terminal))
        }
        let at = Dictionary(uniqueKeysWithValues: nodes.map { ($0.key, $0) })
        let boxesBottom = Self.margin + (rows.values.max() ?? 1) * (Self.nodeHeight + Self.rowGap)
        var edges: [Edge] = []
        var arcs = 0
        for transition in drawn {
            for source in transition.from {
                guard let a = at[source], let b = at[transition.to] else { continue }
                if b.column > a.column {
                    let x1 = a.x + Self.nodeWidth, y1 = a.y + Self.nodeHeight / 2, x2 = b.x, y2 = b.y + Self.nodeHeight / 2
                    let mid = (x1 + x2) / 2
                    edges.append(Edge(from: source, to: transition.to, back: false, path: "M\(x1),\(y1) C\(mid),\(y1) \(mid),\(y2) \(x2),\(y2)"))
                } else {
                    // Back under the boxes: down from the source, along, up into the target.
                    arcs += 1
                    let depth = boxesBottom + arcs * 12
                    let x1 = a.x + Self.nodeWidth / 2 + 8, y1 = a.y + Self.nodeHeight, x2 = b.x + Self.nodeWidth / 2 - 8, y2 = b.y + Self.nodeHeight
                    edges.append(Edge(from: source, to: transition.to, back: true, path: "M\(x1),\(y1) C\(x1),\(depth) \(x2),\(depth) \(x2),\(y2)"))
                }
            }
        }
        self.nodes = nodes
        self.edges = edges
        self.fromAnyOpenState = definition.transitions.filter { $0.from.contains("*") }.map(\.to)
        self.width = Self.margin * 2 + ((nodes.map(\.column).max() ?? 0) + 1) * (Self.nodeWidth + Self.columnGap) - Self.columnGap
        self.height = boxesBottom + arcs * 12 + Self.margin
    }
}
