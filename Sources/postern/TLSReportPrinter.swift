import Foundation
import PosternConfig
import PosternServer
import PosternTLS

/// Prints what `check-config` reports about TLS: each TLS listener's effective policy, each backend policy,
/// and warnings (certificates expiring within 30 days, plaintext fallbacks).
enum TLSReportPrinter {
    static func lines(for runtime: Runtime, now: Double = Date().timeIntervalSince1970) -> [String] {
        var out: [String] = []
        for listener in runtime.config.listeners {
            guard let context = runtime.serverTLS(for: listener.name), let report = context.policyReport else {
                continue
            }
            let source = listener.tlsSettings == nil ? "tls" : "tls + tls_settings"
            out.append("listener \(listener.name) TLS policy (\(source)):")
            out.append("  versions: \(report.versions.joined(separator: " "))")
            if report.versions.contains("TLSv1.3") {
                out.append("  TLS 1.3 ciphersuites: \(joined(report.tls13Ciphersuites))")
            }
            if report.versions.contains("TLSv1.2") {
                let order = report.preferServerCiphers ? "server order" : "client order"
                out.append("  TLS 1.2 ciphers (\(order)): \(joined(report.tls12Ciphers))")
            }
            out.append("  groups: \(report.groups.map(joined) ?? "OpenSSL default")")
            out.append("  dh params: \(report.dhParams)")
            out.append("  session resumption: \(report.resumption)")
            out.append("  client certificates: \(report.clientCertificates)")
            out.append("  ALPN: \(listener.proto.rawValue) (a client offering ALPN must offer it)")
            let strict = runtime.config.serverTLS(for: listener)?.strictSNI == true
            out.append("  strict SNI: \(strict ? "on (unknown names refused; no SNI accepted)" : "off")")
            for certificate in report.certificates {
                out.append("  certificate \(describe(certificate, now: now))")
            }
        }
        let policies = [runtime.tls.defaultBackend] + runtime.tls.entryPolicies
        let settings = [runtime.config.backendTLS] + runtime.config.backends.map(\.tls)
        for (policy, tls) in zip(policies, settings) {
            out.append(backendLine(policy, tls, now: now))
        }
        for warning in runtime.tls.warnings { out.append("warning: \(warning)") }
        return out
    }

    private static func joined(_ items: [String]) -> String {
        items.isEmpty ? "(none)" : items.joined(separator: " ")
    }

    private static func describe(_ certificate: TLSCertificateInfo, now: Double) -> String {
        let names =
            certificate.serverNames.isEmpty ? "default" : "for \(certificate.serverNames.joined(separator: ","))"
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        let expiry = formatter.string(from: Date(timeIntervalSince1970: certificate.notAfter))
        let alternative =
            certificate.alternativeNames.isEmpty ? "" : " [\(certificate.alternativeNames.joined(separator: ","))]"
        return "\(names): \(certificate.subject)\(alternative) (\(certificate.keyType) \(certificate.keyBits)), "
            + "expires \(expiry) (\(certificate.daysLeft(now: now)) days), \(certificate.path)"
    }

    private static func backendLine(_ policy: BackendPolicy, _ tls: BackendTLSConfig, now: Double) -> String {
        var parts: [String] = []
        if tls.verify {
            var cas = [tls.caFile.map { "CA file \($0)" }, tls.caPath.map { "CA folder \($0)" }].compactMap { $0 }
            if cas.isEmpty { cas = ["system CA store"] }
            parts.append("verify chain (\(cas.joined(separator: ", "))) and host name")
        } else {
            parts.append("chain not verified")
        }
        if let name = policy.serverName { parts.append("server name \(name)") }
        if let mode = policy.mode { parts.append("tls \(mode.rawValue)") }
        if !tls.pins.isEmpty { parts.append("\(tls.pins.count) pin(s), usage \(Set(tls.pins.map(\.usage)).sorted())") }
        parts.append("min \(tls.minVersion.rawValue)" + (tls.maxVersion.map { " max \($0.rawValue)" } ?? ""))
        if let ciphers = tls.ciphers { parts.append("ciphers \(ciphers)") }
        for certificate in policy.context.loadedCertificates {
            parts.append("client certificate \(certificate.subject) (\(certificate.daysLeft(now: now)) days left)")
        }
        if policy.allowPlaintextFallback { parts.append("PLAINTEXT FALLBACK ALLOWED") }
        return "backend \(policy.entry ?? "(default)"): " + parts.joined(separator: ", ")
    }
}
