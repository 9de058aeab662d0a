/// Collects the actions of one front-end call, joining adjacent sends into one (one write per read).
struct FrontEndOutput: Sendable {
    private var done: [FrontEndAction] = []
    private var pending: [UInt8] = []

    mutating func add(_ actions: [FrontEndAction]) {
        for action in actions {
            if case .send(let bytes) = action {
                pending += bytes
            } else {
                flush()
                done.append(action)
            }
        }
    }

    /// Everything collected, in order.
    var actions: [FrontEndAction] { pending.isEmpty ? done : done + [.send(pending)] }

    private mutating func flush() {
        guard !pending.isEmpty else { return }
        done.append(.send(pending))
        pending = []
    }
}
