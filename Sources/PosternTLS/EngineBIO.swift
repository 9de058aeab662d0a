internal import COpenSSL

/// The BIO method a `TLSEngine` hands OpenSSL for both directions: one BIO object per connection, whose data
/// pointer is the engine, and which keeps no buffer of its own. Reads take ciphertext from the engine's
/// `incoming` bytes, writes append to its `outgoing` bytes; both are plain arrays that are empty, and hold no
/// allocation, whenever the connection is idle. Two memory BIOs cost two BIO objects, their `BUF_MEM`s and the
/// capacity the buffers grew to.
enum EngineBIO {
    /// Made once per process; never freed.
    nonisolated(unsafe) static let method: OpaquePointer = {
        let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
        guard let method = BIO_meth_new(type, "postern engine") else { fatalError("BIO_meth_new failed") }
        _ = BIO_meth_set_write_ex(method, write)
        _ = BIO_meth_set_read_ex(method, read)
        _ = BIO_meth_set_ctrl(method, control)
        return method
    }()

    /// A BIO on `method` for `engine` (which must outlive it: the engine's `SSL` owns the BIO).
    static func make(for engine: TLSEngine) -> OpaquePointer? {
        guard let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, Unmanaged.passUnretained(engine).toOpaque())
        BIO_set_init(bio, 1)
        return bio
    }

    private static func engine(_ bio: OpaquePointer?) -> TLSEngine? {
        guard let bio, let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<TLSEngine>.fromOpaque(data).takeUnretainedValue()
    }

    private static let retryFlags = BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY

    private typealias Write =
        @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafeMutablePointer<Int>?)
        -> Int32
    private typealias Read =
        @convention(c) (
            OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutablePointer<Int>?
        ) -> Int32
    private typealias Control = @convention(c) (OpaquePointer?, Int32, Int, UnsafeMutableRawPointer?) -> Int

    private static let write: Write = { bio, data, length, written in
        BIO_clear_flags(bio, retryFlags)
        guard let engine = engine(bio), let data else { return 0 }
        engine.appendOutgoing(UnsafeRawBufferPointer(start: data, count: length))
        written?.pointee = length
        return 1
    }

    /// Nothing to read is not the end of the stream: the caller is told to retry (SSL_ERROR_WANT_READ).
    private static let read: Read = { bio, data, length, readBytes in
        BIO_clear_flags(bio, retryFlags)
        guard let engine = engine(bio), let data else { return 0 }
        let count = engine.takeIncoming(into: UnsafeMutableRawBufferPointer(start: data, count: length))
        guard count > 0 else {
            BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
            readBytes?.pointee = 0
            return 0
        }
        readBytes?.pointee = count
        return 1
    }

    private static let control: Control = { bio, command, _, _ in
        switch command {
        case BIO_CTRL_FLUSH: return 1
        case BIO_CTRL_PENDING: return engine(bio)?.incomingCount ?? 0
        case BIO_CTRL_WPENDING: return engine(bio)?.outgoingCount ?? 0
        default: return 0
        }
    }
}
