/// One v2 type-length-value entry.
public struct ProxyTLV: Sendable, Equatable {
    public static let alpn: UInt8 = 0x01
    public static let authority: UInt8 = 0x02
    public static let crc32c: UInt8 = 0x03
    public static let noop: UInt8 = 0x04
    public static let uniqueID: UInt8 = 0x05
    public static let ssl: UInt8 = 0x20
    public static let sslVersion: UInt8 = 0x21
    public static let sslCN: UInt8 = 0x22
    public static let sslCipher: UInt8 = 0x23
    public static let netns: UInt8 = 0x30

    public var type: UInt8
    public var value: [UInt8]

    public init(type: UInt8, value: [UInt8]) {
        self.type = type
        self.value = value
    }

    /// Splits a run of TLVs; nil when one overruns the bytes.
    static func parseList(_ bytes: ArraySlice<UInt8>) -> [ProxyTLV]? {
        var tlvs: [ProxyTLV] = []
        var index = bytes.startIndex
        while index < bytes.endIndex {
            guard bytes.endIndex - index >= 3 else { return nil }
            let length = Int(bytes[index + 1]) << 8 | Int(bytes[index + 2])
            let start = index + 3
            guard bytes.endIndex - start >= length else { return nil }
            tlvs.append(ProxyTLV(type: bytes[index], value: Array(bytes[start..<start + length])))
            index = start + length
        }
        return tlvs
    }

    /// Text of a value when it is UTF-8 with no control character (C0, DEL) in it.
    static func text(_ value: [UInt8]) -> String? {
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) else { return nil }
        return String(validating: value, as: UTF8.self)
    }
}
