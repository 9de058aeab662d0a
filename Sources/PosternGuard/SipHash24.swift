/// SipHash-2-4 (Aumasson and Bernstein): a keyed 64-bit hash, here used so that the login throttle can
/// recognise a repeated failed secret without ever keeping the secret.
public struct SipHash24: Sendable, Equatable {
    public let k0: UInt64
    public let k1: UInt64

    public init(k0: UInt64, k1: UInt64) {
        self.k0 = k0
        self.k1 = k1
    }

    /// The key from 16 bytes, read as two little-endian words (the reference convention); nil for other lengths.
    public init?(key: [UInt8]) {
        guard key.count == 16 else { return nil }
        k0 = Self.word(key[0..<8])
        k1 = Self.word(key[8..<16])
    }

    /// A fresh key from the system's random source (one per process, never stored).
    public static func random() -> SipHash24 {
        var generator = SystemRandomNumberGenerator()
        return SipHash24(k0: generator.next(), k1: generator.next())
    }

    /// The 64-bit tag of `message`.
    public func hash(_ message: some Sequence<UInt8>) -> UInt64 {
        var state = (
            v0: k0 ^ 0x736f_6d65_7073_6575, v1: k1 ^ 0x646f_7261_6e64_6f6d,
            v2: k0 ^ 0x6c79_6765_6e65_7261, v3: k1 ^ 0x7465_6462_7974_6573
        )
        var word: UInt64 = 0
        var count = 0
        for byte in message {
            word |= UInt64(byte) << UInt64(8 * (count & 7))
            count += 1
            if count & 7 == 0 {
                Self.compress(&state, word)
                word = 0
            }
        }
        word |= UInt64(count & 0xFF) << 56
        Self.compress(&state, word)
        state.v2 ^= 0xFF
        for _ in 0..<4 { Self.round(&state) }
        return state.v0 ^ state.v1 ^ state.v2 ^ state.v3
    }

    private typealias State = (v0: UInt64, v1: UInt64, v2: UInt64, v3: UInt64)

    private static func compress(_ state: inout State, _ word: UInt64) {
        state.v3 ^= word
        round(&state)
        round(&state)
        state.v0 ^= word
    }

    private static func round(_ s: inout State) {
        s.v0 &+= s.v1
        s.v1 = rotate(s.v1, 13) ^ s.v0
        s.v0 = rotate(s.v0, 32)
        s.v2 &+= s.v3
        s.v3 = rotate(s.v3, 16) ^ s.v2
        s.v0 &+= s.v3
        s.v3 = rotate(s.v3, 21) ^ s.v0
        s.v2 &+= s.v1
        s.v1 = rotate(s.v1, 17) ^ s.v2
        s.v2 = rotate(s.v2, 32)
    }

    private static func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 {
        (value << bits) | (value >> (64 - bits))
    }

    private static func word(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        bytes.reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }
}
