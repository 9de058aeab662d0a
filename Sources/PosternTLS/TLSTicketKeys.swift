internal import COpenSSL
internal import CPosternShims
import Glibc
import PosternSync

/// The keys that encrypt stateless session tickets (AES-256-CBC with HMAC-SHA256, as OpenSSL's own).
///
/// A new key is made every `rotation` seconds and encrypts the tickets issued from then on; an older key
/// still decrypts its tickets for `rotation + lifetime` seconds after it was made, and a ticket that used
/// it is replaced by a fresh one. Keys live in memory only; they survive configuration reloads because
/// contexts share the process-wide ring for their rotation and lifetime.
public final class TicketKeyRing: Sendable {
    struct Key {
        var name: [UInt8]
        var cipherKey: [UInt8]
        var macKey: [UInt8]
        var created: Double
    }

    public let rotation: Int
    public let lifetime: Int
    private let clock: @Sendable () -> Double
    private let keys = Mutex<[Key]>([])

    /// `clock` returns seconds on a monotonic scale (tests pass their own).
    public init(rotation: Int, lifetime: Int, clock: @escaping @Sendable () -> Double = TicketKeyRing.monotonicNow) {
        self.rotation = max(1, rotation)
        self.lifetime = max(0, lifetime)
        self.clock = clock
    }

    /// Seconds since an arbitrary start, from CLOCK_MONOTONIC.
    @Sendable public static func monotonicNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    private static let registry = Mutex<[String: TicketKeyRing]>([:])

    /// The process-wide ring for a rotation and lifetime, made on first use.
    public static func shared(rotation: Int, lifetime: Int) -> TicketKeyRing {
        registry.withLock { rings in
            let id = "\(rotation)/\(lifetime)"
            if let ring = rings[id] { return ring }
            let ring = TicketKeyRing(rotation: rotation, lifetime: lifetime)
            rings[id] = ring
            return ring
        }
    }

    /// How many keys are held (current plus those still decrypting).
    public var keyCount: Int { keys.withLock { $0.count } }

    /// The key for new tickets, rotating (and dropping expired keys) when the current one is too old.
    func encryptionKey() -> Key? {
        let now = clock()
        return keys.withLock { keys in
            keys.removeAll { now >= $0.created + Double(rotation + lifetime) }
            if let current = keys.first, now < current.created + Double(rotation) { return current }
            guard let fresh = Self.makeKey(at: now) else { return nil }
            keys.insert(fresh, at: 0)
            return fresh
        }
    }

    /// The key a ticket names, if it still decrypts; `current` is false when the ticket should be renewed.
    func decryptionKey(named name: [UInt8]) -> (key: Key, current: Bool)? {
        let now = clock()
        return keys.withLock { keys in
            guard let index = keys.firstIndex(where: { $0.name == name }) else { return nil }
            let key = keys[index]
            guard now < key.created + Double(rotation + lifetime) else { return nil }
            return (key, index == 0 && now < key.created + Double(rotation))
        }
    }

    private static func makeKey(at now: Double) -> Key? {
        var bytes = [UInt8](repeating: 0, count: 16 + 32 + 32)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else { return nil }
        return Key(
            name: Array(bytes[0..<16]), cipherKey: Array(bytes[16..<48]), macKey: Array(bytes[48..<80]), created: now)
    }

    /// OpenSSL's ticket key callback: 1 = key set, 2 = key set and renew the ticket, 0 = unknown key, -1 = error.
    static func callback(
        ssl: OpaquePointer?, keyName: UnsafeMutablePointer<UInt8>?, iv: UnsafeMutablePointer<UInt8>?,
        cipher: OpaquePointer?, mac: OpaquePointer?, encrypt: Bool
    ) -> Int32 {
        guard let ssl, let keyName, let iv, let cipher, let mac, let ctx = SSL_get_SSL_CTX(ssl),
            let raw = SSL_CTX_get_ex_data(ctx, 0)
        else { return -1 }
        let ring = Unmanaged<TicketKeyRing>.fromOpaque(raw).takeUnretainedValue()
        let ivLength = Int(EVP_CIPHER_get_iv_length(EVP_aes_256_cbc()))
        if encrypt {
            guard let key = ring.encryptionKey(), RAND_bytes(iv, Int32(ivLength)) == 1 else { return -1 }
            keyName.update(from: key.name, count: key.name.count)
            guard EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nil, key.cipherKey, iv) == 1,
                setMACKey(mac, key.macKey)
            else { return -1 }
            return 1
        }
        let name = Array(UnsafeBufferPointer(start: keyName, count: 16))
        guard let (key, current) = ring.decryptionKey(named: name) else { return 0 }
        guard setMACKey(mac, key.macKey), EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nil, key.cipherKey, iv) == 1
        else { return -1 }
        return current ? 1 : 2
    }

    private static func setMACKey(_ mac: OpaquePointer, _ key: [UInt8]) -> Bool {
        var key = key
        return "key".withCString { keyParam in
            "digest".withCString { digestParam in
                "SHA256".withCString { digest in
                    key.withUnsafeMutableBytes { keyBytes in
                        var params = [
                            OSSL_PARAM_construct_octet_string(keyParam, keyBytes.baseAddress, keyBytes.count),
                            OSSL_PARAM_construct_utf8_string(digestParam, UnsafeMutablePointer(mutating: digest), 0),
                            OSSL_PARAM_construct_end(),
                        ]
                        return EVP_MAC_CTX_set_params(mac, &params) == 1
                    }
                }
            }
        }
    }
}

/// The C callback OpenSSL calls for every ticket; it finds the ring in the context's app data.
let ticketKeyCallback:
    @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UInt8>?, UnsafeMutablePointer<UInt8>?, OpaquePointer?, OpaquePointer?,
        Int32
    ) -> Int32 = { ssl, keyName, iv, cipher, mac, enc in
        TicketKeyRing.callback(ssl: ssl, keyName: keyName, iv: iv, cipher: cipher, mac: mac, encrypt: enc == 1)
    }
