internal import CLDAP
internal import CPosternLDAPShims
import Foundation
import PosternConfig
import PosternMap

/// What a search found: the attributes of the single matching entry, or why there is none.
enum SearchOutcome: Sendable {
    case entry(dn: String, attributes: [String: [String]])
    case notFound
    case ambiguous(count: Int)
}

/// Why a directory operation failed.
struct LDAPFailure: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable { case unreachable, timeout, other }
    var kind: Kind
    var message: String
    var description: String { message }
}

/// One libldap handle. Not thread-safe: it is used only on its pool slot's serial queue.
final class LDAPConnection {
    private var ld: OpaquePointer?
    let uri: String

    private init(uri: String, ld: OpaquePointer?) {
        self.uri = uri
        self.ld = ld
    }

    deinit { close() }

    func close() {
        if let ld { ldap_unbind_ext_s(ld, nil, nil) }
        ld = nil
    }

    static func describe(_ code: Int32) -> String {
        String(
            decoding: Array(UnsafeBufferPointer(start: ldap_err2string(code), count: strlen(ldap_err2string(code))))
                .map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func kind(of code: Int32) -> LDAPFailure.Kind {
        switch code {
        case postern_ldap_timeout(): return .timeout
        case postern_ldap_server_down(), postern_ldap_connect_error(): return .unreachable
        default: return .other
        }
    }

    /// Opens, connects, optionally upgrades with StartTLS, and binds (anonymously without a DN).
    static func open(uri: String, settings: LDAPSettings) throws(LDAPFailure) -> LDAPConnection {
        var handle: OpaquePointer?
        var code = postern_ldap_open(&handle, uri, settings.timeout, settings.caFile, settings.verify ? 1 : 0)
        let connection = LDAPConnection(uri: uri, ld: handle)
        func fail(_ step: String, _ code: Int32) -> LDAPFailure {
            connection.close()
            var kind = Self.kind(of: code)
            if step == "connect" && kind == .other { kind = .unreachable }
            return LDAPFailure(kind: kind, message: "\(uri): \(step): \(describe(code))")
        }
        guard code == postern_ldap_success(), let ld = handle else { throw fail("initialize", code) }
        code = postern_ldap_connect(ld)
        guard code == postern_ldap_success() else { throw fail("connect", code) }
        if settings.startTLS && !uri.lowercased().hasPrefix("ldaps://") {
            code = postern_ldap_starttls(ld)
            guard code == postern_ldap_success() else { throw fail("StartTLS", code) }
        }
        if let dn = settings.bindDN {
            let password = settings.password ?? ""
            code = password.withCString { postern_ldap_simple_bind(ld, dn, $0, strlen($0)) }
            guard code == postern_ldap_success() else { throw fail("bind as \(dn)", code) }
        }
        return connection
    }

    /// Searches for `filter` and returns the single matching entry's wanted attributes.
    func search(filter: String, settings: LDAPSettings) throws(LDAPFailure) -> SearchOutcome {
        guard let ld else { throw LDAPFailure(kind: .unreachable, message: "\(uri): connection closed") }
        let wanted = settings.attributes
        var cStrings: [UnsafeMutablePointer<CChar>?] = wanted.map { strdup($0) }
        cStrings.append(nil)
        defer { for pointer in cStrings { free(pointer) } }
        var result: OpaquePointer?
        let scope: Int32 =
            switch settings.scope {
            case .base: 0
            case .one: 1
            case .sub: 2
            }
        let code = cStrings.withUnsafeMutableBufferPointer { buffer in
            postern_ldap_search(ld, settings.base, scope, filter, buffer.baseAddress, 2, settings.timeout, &result)
        }
        defer { if let result { ldap_msgfree(result) } }
        if code == postern_ldap_size_limit_exceeded() {
            return .ambiguous(count: 2)
        }
        guard code == postern_ldap_success() else {
            throw LDAPFailure(kind: Self.kind(of: code), message: "\(uri): search: \(Self.describe(code))")
        }
        let count = ldap_count_entries(ld, result)
        if count == 0 { return .notFound }
        if count > 1 { return .ambiguous(count: Int(count)) }
        guard let entry = ldap_first_entry(ld, result) else { return .notFound }
        var dn = ""
        if let raw = ldap_get_dn(ld, entry) {
            dn = String(decoding: UnsafeRawBufferPointer(start: raw, count: strlen(raw)), as: UTF8.self)
            ldap_memfree(raw)
        }
        var attributes: [String: [String]] = [:]
        for name in wanted {
            guard let values = ldap_get_values_len(ld, entry, name) else { continue }
            defer { ldap_value_free_len(values) }
            var list: [String] = []
            var index = 0
            while let value = values[index] {
                let bytes = UnsafeRawBufferPointer(start: value.pointee.bv_val, count: Int(value.pointee.bv_len))
                list.append(String(decoding: bytes, as: UTF8.self))
                index += 1
            }
            attributes[name.lowercased()] = list
        }
        return .entry(dn: dn, attributes: attributes)
    }
}
