/// Which sessions an admin request is about: `?user=`, `?backend=` and `id=` (all given must match).
struct SessionFilter: Sendable, Equatable {
    var user: String?
    var backend: String?
    var id: String?

    /// No criterion: every session.
    var isEmpty: Bool { user == nil && backend == nil && id == nil }

    func matches(id: String, user: String?, backend: String?) -> Bool {
        if let wanted = self.id, wanted != id { return false }
        if let wanted = self.user, wanted != user { return false }
        if let wanted = self.backend, wanted.lowercased() != backend?.lowercased() { return false }
        return true
    }
}
