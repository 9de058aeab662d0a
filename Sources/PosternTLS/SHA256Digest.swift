internal import COpenSSL

/// SHA-256 by OpenSSL, for digests Postern computes itself (the status page's Content-Security-Policy hashes).
public enum SHA256Digest {
    /// The 32-byte digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { input in
            _ = EVP_Digest(input.baseAddress, input.count, &digest, nil, EVP_sha256(), nil)
        }
        return digest
    }
}
