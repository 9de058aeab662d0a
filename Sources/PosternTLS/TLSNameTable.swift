import PosternSync

/// One `String` per distinct name OpenSSL reports for a connection (protocol version, cipher suite), shared
/// by every connection that reports it: `TLSSessionInfo` is kept for a session's whole life (its log line,
/// `/sessions`), and a cipher name such as `TLS_AES_256_GCM_SHA384` is too long to be stored inline, so each
/// connection would otherwise hold its own copies. A handful of names exist; the table only grows by them.
enum TLSNameTable {
    private static let names = Mutex<[String: String]>([:])

    /// The shared copy of the NUL-terminated `name` (a static string inside OpenSSL).
    static func intern(_ name: UnsafePointer<CChar>) -> String {
        let text = String(cString: name)
        return names.withLock { names in
            if let known = names[text] { return known }
            names[text] = text
            return text
        }
    }
}
