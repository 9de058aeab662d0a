import Foundation
import PosternTLS

/// A TLS listener's posture as the status page shows it: versions, suites in the server's order, and each
/// certificate's subject and days to expiry.
struct StatusTLSPosture: Sendable, Equatable, Encodable {
    /// One certificate the listener presents.
    struct Certificate: Sendable, Equatable, Encodable {
        let subject: String
        /// The SNI names it is chosen for; empty for a default certificate.
        let serverNames: [String]
        let notAfter: Date
        let daysLeft: Int

        private enum CodingKeys: String, CodingKey {
            case subject, serverNames = "server_names", notAfter = "not_after", daysLeft = "days_left"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(subject, forKey: .subject)
            try container.encode(serverNames, forKey: .serverNames)
            try container.encode(AdminJSON.timestamp(notAfter), forKey: .notAfter)
            try container.encode(daysLeft, forKey: .daysLeft)
        }
    }

    let versions: [String]
    /// TLS 1.3 suites, then TLS 1.2 ciphers, each in preference order.
    let tls13Ciphersuites: [String]
    let tls12Ciphers: [String]
    /// True when the server's order decides the TLS 1.2 cipher.
    let preferServerCiphers: Bool
    let certificates: [Certificate]

    /// From a server context's policy report; `now` in Unix seconds decides the days left.
    init(_ report: TLSPolicyReport, now: Double) {
        versions = report.versions
        tls13Ciphersuites = report.versions.contains("TLSv1.3") ? report.tls13Ciphersuites : []
        tls12Ciphers = report.versions.contains("TLSv1.2") ? report.tls12Ciphers : []
        preferServerCiphers = report.preferServerCiphers
        certificates = report.certificates.map {
            Certificate(
                subject: $0.subject, serverNames: $0.serverNames, notAfter: Date(timeIntervalSince1970: $0.notAfter),
                daysLeft: $0.daysLeft(now: now))
        }
    }

    private enum CodingKeys: String, CodingKey {
        case versions, tls13Ciphersuites = "tls13_ciphersuites", tls12Ciphers = "tls12_ciphers"
        case preferServerCiphers = "prefer_server_ciphers", certificates
    }
}
