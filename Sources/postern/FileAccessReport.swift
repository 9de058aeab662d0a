import PosternConfig
import PosternProcess

/// What `check-config` warns about the files a running server reads again on reload: a key or password
/// file any user can read, and, with `server.user` / `server.group`, a file that identity cannot read (the
/// reload would then be refused). The layout that works: keys `root:GROUP` mode 0640.
enum FileAccessReport {
    /// The secret files of a configuration: private keys and the LDAP password file.
    static func secretFiles(_ config: PosternConfig) -> [String] {
        var files: [String] = []
        func server(_ tls: ServerTLSConfig?) {
            guard let tls else { return }
            files.append(tls.key)
            files += tls.certificates.map(\.key)
        }
        server(config.tls)
        for listener in config.listeners { server(listener.tlsSettings) }
        files += [config.backendTLS.key].compactMap { $0 }
        files += config.backends.compactMap(\.tls.key)
        if let password = config.map.ldap?.passwordFile { files.append(password) }
        return unique(files)
    }

    /// Every other file a reload reads: the config itself, certificates, CA bundles, DH parameters, maps.
    static func otherFiles(_ config: PosternConfig) -> [String] {
        var files = [config.sourcePath]
        func server(_ tls: ServerTLSConfig?) {
            guard let tls else { return }
            files.append(tls.certificate)
            files += tls.certificates.map(\.certificate)
            if case .file(let path) = tls.dhParams { files.append(path) }
            if let ca = tls.clientCAFile { files.append(ca) }
        }
        server(config.tls)
        for listener in config.listeners { server(listener.tlsSettings) }
        for tls in [config.backendTLS] + config.backends.map(\.tls) {
            files += [tls.caFile, tls.certificate].compactMap { $0 }
        }
        files += config.map.files + config.map.regexFiles
        if let ca = config.map.ldap?.caFile { files.append(ca) }
        return unique(files)
    }

    /// The secret files (keys, the LDAP password file) every user can read, with their octal modes; `run`
    /// warns about them at start, `check-config` too.
    static func secretsOthersCanRead(_ config: PosternConfig) -> [(path: String, mode: String)] {
        secretFiles(config).filter(FileAccess.othersCanRead).map { path in
            (path, FileAccess.mode(path).map { String($0, radix: 8) } ?? "?")
        }
    }

    /// The warning lines (without the `warning: ` prefix).
    static func warnings(_ config: PosternConfig, identity: ProcessIdentity?) -> [String] {
        var out: [String] = []
        let secrets = secretFiles(config)
        for (path, mode) in secretsOthersCanRead(config) {
            out.append("\(path) holds a secret and every user can read it (mode \(mode)); make it 0640 root:GROUP")
        }
        guard let identity else { return out }
        let who = identity.userName.map { "server.user \($0)" } ?? "group \(identity.gid)"
        for path in secrets + otherFiles(config) where !FileAccess.canRead(path, as: identity) {
            out.append(
                "\(who) (uid \(identity.uid), gid \(identity.gid)) cannot read \(path): reloads after the switch "
                    + "would be refused (make it group-readable by that group, e.g. 0640 root:GROUP)")
        }
        return out
    }

    private static func unique(_ paths: [String]) -> [String] {
        var seen: Set<String> = []
        return paths.filter { seen.insert($0).inserted }
    }
}
