import PosternConfig

/// A reload that passed every check and bound every new socket, ready to be put into service at once.
struct ReloadChange {
    /// What happens to the admin endpoint.
    enum AdminChange {
        case unchanged
        /// `server.admin_listen` changed: this endpoint (bound already; nil when the key was removed)
        /// replaces the one in service.
        case replace(AdminEndpoint?)
    }

    let config: PosternConfig
    let runtime: Runtime
    let plan: ListenerPlan
    /// The sockets of `plan.toBind`, bound and not accepting yet.
    let newBindings: [ListenerBinding]
    let admin: AdminChange

}
