/// The dependency graph of composite alarms: which alarms a composite reads, its evaluation order, cycles.
public enum AlarmGraph {
    /// A cycle among composites, as names in order with the first repeated at the end (`a → b → a`), or nil.
    public static func cycle(in composites: [String: [String]]) -> [String]? {
        var state: [String: Int] = [:]  // 1 = on the stack, 2 = done
        var stack: [String] = []
        func visit(_ name: String) -> [String]? {
            state[name] = 1
            stack.append(name)
            for next in composites[name] ?? [] where composites[next] != nil {
                if state[next] == 1 {
                    let start = stack.firstIndex(of: next)!
                    return Array(stack[start...]) + [next]
                }
                if state[next] == nil, let found = visit(next) { return found }
            }
            stack.removeLast()
            state[name] = 2
            return nil
        }
        for name in composites.keys.sorted() where state[name] == nil {
            if let found = visit(name) { return found }
        }
        return nil
    }

    /// Composite names ordered so that each comes after every composite it reads (the graph must be acyclic).
    public static func evaluationOrder(of composites: [String: [String]]) -> [String] {
        var done: Set<String> = []
        var order: [String] = []
        func visit(_ name: String) {
            guard done.insert(name).inserted else { return }
            for next in composites[name] ?? [] where composites[next] != nil { visit(next) }
            order.append(name)
        }
        for name in composites.keys.sorted() { visit(name) }
        return order
    }
}
