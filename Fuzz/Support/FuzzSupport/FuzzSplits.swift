/// Where a byte stream is cut into reads, as the fuzzer chose: up to 15 chunk lengths (1...256), used in
/// turn and over again until the stream is consumed.
public struct FuzzSplits: Sendable {
    public let lengths: [Int]

    /// Reads a count byte (0...15 lengths) and that many length bytes from `input`.
    public init(_ input: inout FuzzInput) {
        let count = Int(input.byte() % 16)
        lengths = (0..<count).map { _ in Int(input.byte()) + 1 }
    }

    public init(lengths: [Int]) { self.lengths = lengths.map { max(1, $0) } }

    /// `bytes` cut into reads; one read when no lengths were chosen, none for no bytes.
    public func chunks(of bytes: [UInt8]) -> [[UInt8]] {
        guard !lengths.isEmpty else { return bytes.isEmpty ? [] : [bytes] }
        var out: [[UInt8]] = []
        var offset = 0
        var turn = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + lengths[turn % lengths.count])
            out.append(Array(bytes[offset..<end]))
            offset = end
            turn += 1
        }
        return out
    }

    /// `bytes` one byte per read.
    public static func bytewise(_ bytes: [UInt8]) -> [[UInt8]] { bytes.map { [$0] } }
}
