import Foundation
import PosternTLS
import XCTest

/// Certificates, keys and DH parameters made once per test run with the `openssl` command line tool.
struct TestPKI: Sendable {
    /// The CA that signed the server certificate.
    let caCert: String
    /// A CA that has nothing to do with the server certificate.
    let otherCACert: String
    /// RSA server certificate for DNS:localhost and IP:127.0.0.1, signed by `caCert`.
    let serverCert: String
    let serverKey: String
    /// A private key that does not belong to `serverCert`.
    let unrelatedKey: String
    /// 1024-bit DH parameters: too weak, must be refused.
    let dh1024: String
    /// RFC 7919 ffdhe2048 parameters.
    let ffdhe2048: String
    /// ECDSA (P-256) server certificate for the same names as `serverCert`, signed by `caCert`.
    let ecdsaCert: String
    let ecdsaKey: String
    /// RSA certificate for DNS:other.test and DNS:*.wild.test (CN=other.test), signed by `caCert`.
    let otherNameCert: String
    let otherNameKey: String
    /// Client certificate (CN=client.test, clientAuth) signed by `caCert`.
    let clientCert: String
    let clientKey: String
    /// Client certificate (CN=stranger.test) signed by `otherCACert`.
    let strangerCert: String
    let strangerKey: String

    /// Where the files live; removed when the test process exits.
    static let directory: String = {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("postern-tls-tests-\(getpid())")
        atexit { try? FileManager.default.removeItem(atPath: TestPKI.directory) }
        return path
    }()

    /// The material, generated on first use; a failure is kept and reported by every test that needs it.
    static let shared: Result<TestPKI, any Error> = Result { try TestPKI.generate(in: directory) }

    static func get() throws -> TestPKI { try shared.get() }

    private static func generate(in directory: String) throws -> TestPKI {
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
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:localhost, IP:127.0.0.1
            authorityKeyIdentifier = keyid

            """)
        for ca in ["ca", "other-ca"] {
            try openssl(
                "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path("\(ca).key"))
            try openssl(
                "req", "-new", "-key", path("\(ca).key"), "-subj", "/CN=Postern test \(ca)", "-out", path("\(ca).csr"))
            try openssl(
                "x509", "-req", "-in", path("\(ca).csr"), "-signkey", path("\(ca).key"), "-days", "2",
                "-extfile", path("ca.ext"), "-out", path("\(ca).pem"))
        }
        // RSA, so that the ECDHE-RSA and DHE-RSA TLS 1.2 suites can be negotiated.
        try openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path("server.key"))
        try openssl("req", "-new", "-key", path("server.key"), "-subj", "/CN=localhost", "-out", path("server.csr"))
        try openssl(
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"),
            "-CAcreateserial", "-days", "2", "-extfile", path("server.ext"), "-out", path("server.pem"))
        try write(
            "other.ext",
            """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature, keyEncipherment
            extendedKeyUsage = serverAuth
            subjectAltName = DNS:other.test, DNS:*.wild.test

            """)
        try write(
            "client.ext",
            """
            basicConstraints = critical, CA:FALSE
            keyUsage = critical, digitalSignature
            extendedKeyUsage = clientAuth

            """)
        func leaf(_ name: String, algorithm: [String], subject: String, ca: String, ext: String) throws {
            try openssl(["genpkey"] + algorithm + ["-out", path("\(name).key")])
            try openssl(["req", "-new", "-key", path("\(name).key"), "-subj", subject, "-out", path("\(name).csr")])
            try openssl([
                "x509", "-req", "-in", path("\(name).csr"), "-CA", path("\(ca).pem"), "-CAkey", path("\(ca).key"),
                "-CAcreateserial", "-days", "2", "-extfile", path(ext), "-out", path("\(name).pem"),
            ])
        }
        let rsa = ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]
        let ec = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]
        try leaf("ecdsa", algorithm: ec, subject: "/CN=localhost/O=ECDSA", ca: "ca", ext: "server.ext")
        try leaf("other", algorithm: rsa, subject: "/CN=other.test", ca: "ca", ext: "other.ext")
        try leaf("client", algorithm: ec, subject: "/CN=client.test", ca: "ca", ext: "client.ext")
        try leaf("stranger", algorithm: ec, subject: "/CN=stranger.test", ca: "other-ca", ext: "client.ext")
        try openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path("unrelated.key"))
        try openssl("dhparam", "-out", path("dh1024.pem"), "1024")
        try openssl(
            "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "group:ffdhe2048", "-out", path("ffdhe2048.pem"))
        return TestPKI(
            caCert: path("ca.pem"), otherCACert: path("other-ca.pem"), serverCert: path("server.pem"),
            serverKey: path("server.key"), unrelatedKey: path("unrelated.key"), dh1024: path("dh1024.pem"),
            ffdhe2048: path("ffdhe2048.pem"), ecdsaCert: path("ecdsa.pem"), ecdsaKey: path("ecdsa.key"),
            otherNameCert: path("other.pem"), otherNameKey: path("other.key"), clientCert: path("client.pem"),
            clientKey: path("client.key"), strangerCert: path("stranger.pem"), strangerKey: path("stranger.key"))
    }

    struct CommandError: Error, CustomStringConvertible {
        var description: String
    }

    private static func openssl(_ arguments: String...) throws {
        _ = try run(["openssl"] + arguments)
    }

    private static func openssl(_ arguments: [String]) throws {
        _ = try run(["openssl"] + arguments)
    }

    /// The SHA-256 of what a shell pipeline of `openssl` commands prints (DER), as bytes: for TLSA pins.
    static func sha256(ofShellOutput command: String) throws -> [UInt8] {
        let hex = try run(["sh", "-c", command + " | openssl dgst -sha256 -r"]).prefix { $0 != " " }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else {
                throw CommandError(description: "bad hex \(hex)")
            }
            bytes.append(byte)
            index = next
        }
        return bytes
    }

    /// A certificate in DER form.
    static func der(certificate: String) throws -> [UInt8] {
        let out = certificate + ".der"
        try openssl("x509", "-in", certificate, "-outform", "DER", "-out", out)
        return Array(try Data(contentsOf: URL(fileURLWithPath: out)))
    }

    /// The server certificate followed by the CA certificate, as one chain file.
    func serverChain() throws -> String {
        let path = TestPKI.directory + "/server-chain.pem"
        let text =
            try String(contentsOfFile: serverCert, encoding: .utf8) + String(contentsOfFile: caCert, encoding: .utf8)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// SHA-256 of a certificate's public key (selector 1) or of the whole certificate (selector 0), in DER.
    static func digest(certificate: String, selector: Int) throws -> [UInt8] {
        selector == 1
            ? try sha256(
                ofShellOutput: "openssl x509 -in '\(certificate)' -noout -pubkey | openssl pkey -pubin -outform DER")
            : try sha256(ofShellOutput: "openssl x509 -in '\(certificate)' -outform DER")
    }

    /// Runs a command found on PATH; returns its output; throws with its output when it fails.
    @discardableResult
    private static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandError(
                description: "\(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(text)")
        }
        return text
    }
}

/// Cipher settings that every test server uses unless it says otherwise.
let testCiphers = "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM"
let testCiphersuites = "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256"

extension TestPKI {
    /// Server settings with this PKI's certificate and key.
    func serverSettings(
        minVersion: TLSProtocolVersion = .tls1_2, maxVersion: TLSProtocolVersion? = nil, ciphers: String = testCiphers,
        preferServerCiphers: Bool = true, dhParamsPath: String? = nil
    ) -> ServerTLSSettings {
        ServerTLSSettings(
            certificateChainPath: serverCert, privateKeyPath: serverKey, minVersion: minVersion, ciphers: ciphers,
            ciphersuites: testCiphersuites, preferServerCiphers: preferServerCiphers, dhParamsPath: dhParamsPath,
            maxVersion: maxVersion)
    }

    func server(_ settings: ServerTLSSettings? = nil) throws -> TLSContext {
        try TLSContext.server(settings ?? serverSettings())
    }
}

/// What happened when two engines talked until they were done, stuck or failed.
struct HandshakeOutcome {
    var clientError: TLSError?
    var serverError: TLSError?
    var succeeded: Bool { clientError == nil && serverError == nil }
    /// Both errors, for assertion messages.
    var errors: String { "client: \(clientError?.message ?? "-"); server: \(serverError?.message ?? "-")" }
}

/// Moves every pending ciphertext byte of `from` into `to`; returns how many bytes moved.
@discardableResult
func transfer(from: TLSEngine, to: TLSEngine) -> Int {
    var bytes: [UInt8] = []
    from.takeOutgoing(into: &bytes)
    bytes.withUnsafeBytes { to.feed($0) }
    return bytes.count
}

/// Drives both handshakes, in memory, until both are complete, one side fails, or `rounds` pass.
///
/// When one side fails, whatever it queued (an alert) still reaches the other side, which gets one more turn
/// so that its view of the failure is recorded too.
func runHandshake(client: TLSEngine, server: TLSEngine, rounds: Int = 20) -> HandshakeOutcome {
    var outcome = HandshakeOutcome()
    func step(_ engine: TLSEngine) -> TLSError? {
        do {
            try engine.handshake()
            return nil
        } catch {
            return error
        }
    }
    for _ in 0..<rounds {
        outcome.clientError = step(client)
        transfer(from: client, to: server)
        if outcome.clientError != nil {
            outcome.serverError = step(server)
            return outcome
        }
        outcome.serverError = step(server)
        transfer(from: server, to: client)
        if outcome.serverError != nil {
            outcome.clientError = step(client)
            return outcome
        }
        if client.handshakeComplete && server.handshakeComplete && client.outgoingCount == 0
            && server.outgoingCount == 0
        {
            return outcome
        }
    }
    outcome.clientError = outcome.clientError ?? TLSError("handshake did not finish in \(rounds) rounds")
    return outcome
}

/// Makes a connected client/server pair, failing the test when the handshake does not complete.
func connectedPair(
    client clientContext: TLSContext, server serverContext: TLSContext, serverName: String? = "localhost",
    file: StaticString = #filePath, line: UInt = #line
) throws -> (client: TLSEngine, server: TLSEngine) {
    let client = try TLSEngine(context: clientContext, serverName: serverName)
    let server = try TLSEngine(context: serverContext)
    let outcome = runHandshake(client: client, server: server)
    guard outcome.succeeded else {
        XCTFail("handshake failed: \(outcome.errors)", file: file, line: line)
        throw TLSError("handshake failed")
    }
    return (client, server)
}

/// Reads plaintext from `reader` until `count` bytes arrived, feeding it what `writer` has queued.
func receive(_ count: Int, by reader: TLSEngine, from writer: TLSEngine) throws -> [UInt8] {
    var received: [UInt8] = []
    var idleRounds = 0
    while received.count < count && idleRounds < 5 {
        let moved = transfer(from: writer, to: reader)
        switch try reader.readPlaintext(into: &received) {
        case .data: idleRounds = 0
        case .wantMore: idleRounds += moved == 0 ? 1 : 0
        case .closed: return received
        }
    }
    return received
}

/// The test's thrown TLS error, or a test failure when nothing (or something else) was thrown.
func tlsError(
    _ body: () throws -> some Any, file: StaticString = #filePath, line: UInt = #line
) -> TLSError? {
    do {
        let value = try body()
        XCTFail("expected a TLSError, got \(value)", file: file, line: line)
    } catch let error as TLSError {
        return error
    } catch {
        XCTFail("expected a TLSError, got \(error)", file: file, line: line)
    }
    return nil
}
