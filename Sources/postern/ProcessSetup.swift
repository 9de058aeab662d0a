import Foundation
import Logging
import PosternConfig
import PosternProcess

/// What `postern run` does to the process around the server: the open-file limit, the pid file, and the
/// switch to `server.user` / `server.group` once the listeners are bound and the keys read.
struct ProcessSetup {
    let pidFile: PidFile?
    let identity: ProcessIdentity?

    /// Raises `RLIMIT_NOFILE` (warning when it stays below what `max_sessions` needs), resolves the user and
    /// group (an unknown one fails now, before anything is bound) and creates the pid file.
    static func prepare(_ config: PosternConfig, logger: Logger) throws -> ProcessSetup {
        let maxSessions = config.limits.maxSessions
        do {
            let limit = try FileDescriptorLimit.raise(maxSessions: maxSessions)
            if !limit.isSufficient {
                logger.warning(
                    "open-file limit below what limits.max_sessions needs",
                    metadata: [
                        "soft": "\(limit.soft)", "hard": "\(limit.hard)", "needed": "\(limit.needed)",
                        "max_sessions": "\(maxSessions)",
                    ])
            }
        } catch {
            logger.warning("cannot raise the open-file limit", metadata: ["error": "\(error)"])
        }
        let identity = try ProcessIdentity.resolve(user: config.server.user, group: config.server.group)
        let pidFile = try config.server.pidFile.map { path throws(PidFileError) in try PidFile.create(path: path) }
        return ProcessSetup(pidFile: pidFile, identity: identity)
    }

    /// Switches to `server.user` / `server.group` (nothing when neither is set).
    func dropPrivileges(logger: Logger) throws {
        guard let identity else { return }
        try PrivilegeDrop.apply(identity)
        logger.info(
            "running as",
            metadata: ["uid": "\(identity.uid)", "gid": "\(identity.gid)", "user": "\(identity.userName ?? "-")"])
    }

    /// Removes the pid file if it still names this process (it stays when the folder no longer lets this
    /// user remove it; the next start replaces it as stale).
    func cleanUp() {
        _ = try? pidFile?.remove()
    }
}
