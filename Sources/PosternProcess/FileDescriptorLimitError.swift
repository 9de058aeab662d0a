/// Why `RLIMIT_NOFILE` could not be read or raised.
public enum FileDescriptorLimitError: Error, Sendable, Equatable {
    case getrlimitFailed(errno: Int32)
    case setrlimitFailed(errno: Int32)
}
