/// SASL helpers shared by the protocols: base64 and the PLAIN message (RFC 4616).
public enum SASL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decodeTable: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (index, char) in alphabet.enumerated() { table[Int(char)] = Int8(index) }
        return table
    }()

    /// Standard base64 with padding.
    public static func base64Encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                alphabet[Int(n & 63)],
            ]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "="),
            ]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Strict base64 decoding (padding required, no white space); nil when the text is not base64.
    public static func base64Decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let chars = Array(text)
        guard chars.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 4 * 3)
        var index = 0
        while index < chars.count {
            let quad = chars[index..<index + 4]
            let isLast = index + 4 == chars.count
            var values: [UInt32] = []
            var padding = 0
            for (offset, char) in quad.enumerated() {
                if char == UInt8(ascii: "=") {
                    guard isLast, offset >= 2 else { return nil }
                    padding += 1
                    values.append(0)
                } else {
                    guard padding == 0 else { return nil }
                    let value = decodeTable[Int(char)]
                    guard value >= 0 else { return nil }
                    values.append(UInt32(value))
                }
            }
            let n = values[0] << 18 | values[1] << 12 | values[2] << 6 | values[3]
            out.append(UInt8(n >> 16 & 0xFF))
            if padding < 2 { out.append(UInt8(n >> 8 & 0xFF)) }
            if padding < 1 { out.append(UInt8(n & 0xFF)) }
            index += 4
        }
        return out
    }

    /// Decodes a PLAIN message `authzid NUL authcid NUL password`; nil when malformed (including a NUL in
    /// the password, which RFC 4616 excludes).
    public static func decodePlain(_ message: [UInt8]) -> Credentials? {
        let parts = message.split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[1].isEmpty else { return nil }
        guard let authzid = String(validating: parts[0], as: UTF8.self),
            let user = String(validating: parts[1], as: UTF8.self),
            let password = String(validating: parts[2], as: UTF8.self)
        else { return nil }
        return Credentials(user: user, password: password, authzid: authzid.isEmpty ? nil : authzid)
    }

    /// Encodes credentials as a PLAIN message.
    public static func encodePlain(_ credentials: Credentials) -> [UInt8] {
        Array((credentials.authzid ?? "").utf8) + [0] + Array(credentials.user.utf8) + [0]
            + Array(credentials.password.utf8)
    }
}
