import Foundation

/// A self-signed certificate and key for the TLS listeners of the tests, made once with `openssl`.
/// The fake connections never run a handshake: the context only has to load.
enum TestCertificate {
    struct Files: Sendable {
        let certificate: String
        let key: String
    }

    static let shared: Result<Files, any Error> = Result {
        let directory = (NSTemporaryDirectory() as NSString).appendingPathComponent(
            "postern-server-tests-\(getpid())")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: TestCertificate.directory) }
        let files = Files(
            certificate: (directory as NSString).appendingPathComponent("cert.pem"),
            key: (directory as NSString).appendingPathComponent("key.pem"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", files.key, "-out", files.certificate, "-days", "2", "-subj", "/CN=localhost",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
        return files
    }

    static var directory: String {
        (NSTemporaryDirectory() as NSString).appendingPathComponent("postern-server-tests-\(getpid())")
    }

    static func get() throws -> Files { try shared.get() }
}
