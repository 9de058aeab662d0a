/// What one `accept4` on a listening socket gave.
enum AcceptResult {
    /// A new connection: its non-blocking fd and the peer's address.
    case accepted(Int32, SocketAddress?)
    /// Nothing is waiting (EAGAIN).
    case empty
    /// Interrupted, or the connection went away before it was accepted: try again.
    case again
    /// Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM): back off instead of spinning.
    case exhausted(String)
    /// Any other error, with its text.
    case failed(String)
}
