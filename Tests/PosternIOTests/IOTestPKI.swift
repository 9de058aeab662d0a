import Foundation
import PosternTLS

/// A CA, an unrelated CA and a server certificate for localhost, made once per run with the `openssl` tool
/// (a trimmed copy of PosternTLSTests' TestPKI: test targets cannot import each other).
struct IOTestPKI: Sendable {
    let caCert: String
    let otherCACert: String
    let serverCert: String
    let serverKey: String

    static let directory: String = {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("postern-io-tests-\(getpid())")
        atexit { try? FileManager.default.removeItem(atPath: IOTestPKI.directory) }
        return path
    }()

    static let shared: Result<IOTestPKI, any Error> = Result { try IOTestPKI.generate(in: directory) }

    static func get() throws -> IOTestPKI { try shared.get() }

    /// A server context with this PKI's certificate.
    func serverContext() throws -> TLSContext {
        try TLSContext.server(
            ServerTLSSettings(
                certificateChainPath: serverCert, privateKeyPath: serverKey, ciphers: "ECDHE+AESGCM",
                ciphersuites: "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384"))
    }

    /// A client context that trusts this PKI's CA (or, with `trusting: false`, an unrelated one).
    func clientContext(trusting: Bool = true) throws -> TLSContext {
        try TLSContext.client(ClientTLSSettings(caFile: trusting ? caCert : otherCACert))
    }

    private static func generate(in directory: String) throws -> IOTestPKI {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path(name)))
        }
        try write(
            "ca.ext",
            """
            basicConstraints = critical, CA:TRUE
            keyUsage = critical, keyCertSign, cRLSign
            subjectKeyIdentifier = hash

            """)
        try write(
            "server.ext",
            """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:localhost, IP:127.0.0.1
            authorityKeyIdentifier = keyid

            """)
        let ec = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"]
        for ca in ["ca", "other-ca"] {
            try run(ec + [path("\(ca).key")])
            try run(
                ["req", "-new", "-key", path("\(ca).key"), "-subj", "/CN=Postern IO test \(ca)"] + [
                    "-out", path("\(ca).csr"),
                ])
            try run([
                "x509", "-req", "-in", path("\(ca).csr"), "-signkey", path("\(ca).key"), "-days", "2",
                "-extfile", path("ca.ext"), "-out", path("\(ca).pem"),
            ])
        }
        try run(ec + [path("server.key")])
        try run(["req", "-new", "-key", path("server.key"), "-subj", "/CN=localhost", "-out", path("server.csr")])
        try run([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", path("server.ext"), "-out", path("server.pem"),
        ])
        return IOTestPKI(
            caCert: path("ca.pem"), otherCACert: path("other-ca.pem"), serverCert: path("server.pem"),
            serverKey: path("server.key"))
    }

    struct CommandError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `openssl` with `arguments`; throws with its output when it fails.
    private static func run(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError(description: "openssl \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}
