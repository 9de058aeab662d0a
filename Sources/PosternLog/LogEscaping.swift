/// Byte-level escaping for log lines. Every output is one line: CR, LF and every other control character
/// (C0, DEL, C1, U+2028, U+2029) become `\r`, `\n`, `\t` or `\uXXXX`, and `\` becomes `\\`.
enum LogEscaping {
    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `text` with control characters and `\` escaped; `"` too when `quote` is set.
    static func appendEscaped(_ text: String, quote: Bool, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendEscaped($0, quote: quote, to: &out) }
    }

    /// Appends a logfmt value: bare when it is safe, otherwise in double quotes with `"` escaped as well.
    /// Quoted when empty or containing a space, `=`, `"`, `\` or a control character.
    static func appendLogfmtValue(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            if bytes.isEmpty || needsQuoting(bytes) {
                out.append(UInt8(ascii: "\""))
                appendEscaped(bytes, quote: true, to: &out)
                out.append(UInt8(ascii: "\""))
            } else {
                out.append(contentsOf: bytes)
            }
        }
    }

    /// Appends a JSON string (RFC 8259), quotes included.
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        appendEscaped(text, quote: true, to: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// Appends a logfmt key: printable ASCII other than space, `=` and `"` is kept, anything else becomes `_`.
    static func appendLogfmtKey(_ key: String, to out: inout [UInt8]) {
        if key.isEmpty {
            out.append(UInt8(ascii: "_"))
            return
        }
        for byte in key.utf8 {
            let safe = byte > 0x20 && byte < 0x7F && byte != UInt8(ascii: "=") && byte != UInt8(ascii: "\"")
            out.append(safe ? byte : UInt8(ascii: "_"))
        }
    }

    private static func needsQuoting(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for index in bytes.indices {
            switch bytes[index] {
            case 0x00...0x20, 0x7F, UInt8(ascii: "="), UInt8(ascii: "\""), UInt8(ascii: "\\"): return true
            case 0xC2, 0xE2: if escapeLength(bytes, at: index) > 0 { return true }
            default: continue
            }
        }
        return false
    }

    private static func appendEscaped(_ bytes: UnsafeBufferPointer<UInt8>, quote: Bool, to out: inout [UInt8]) {
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let length: Int
            switch byte {
            case 0x00..<0x20, 0x7F, UInt8(ascii: "\\"): length = 1
            case UInt8(ascii: "\""): length = quote ? 1 : 0
            case 0xC2, 0xE2: length = escapeLength(bytes, at: index)
            default: length = 0
            }
            if length == 0 {
                index += 1
                continue
            }
            if start < index { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index])) }
            appendEscape(bytes, at: index, to: &out)
            index += length
            start = index
        }
        if start < bytes.count { out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...])) }
    }

    /// The length of the multi-byte control character at `index` (C1 is `C2 80...9F`, U+2028/2029 is
    /// `E2 80 A8/A9`), or 0 when the bytes there are an ordinary character.
    private static func escapeLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        let rest = bytes.count - index
        if bytes[index] == 0xC2, rest >= 2, (0x80...0x9F).contains(bytes[index + 1]) { return 2 }
        if bytes[index] == 0xE2, rest >= 3, bytes[index + 1] == 0x80,
            bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9
        {
            return 3
        }
        return 0
    }

    private static func appendEscape(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, to out: inout [UInt8]) {
        let byte = bytes[index]
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\\"), UInt8(ascii: "\""): out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0xC2: appendUnicode(UInt16(bytes[index + 1]), to: &out)
        case 0xE2: appendUnicode(0x2000 | UInt16(bytes[index + 2] & 0x3F), to: &out)
        default: appendUnicode(UInt16(byte), to: &out)
        }
    }

    private static func appendUnicode(_ scalar: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "u"))
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hex[Int((scalar >> UInt16(shift)) & 0xF)])
        }
    }
}
