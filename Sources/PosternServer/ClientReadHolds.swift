/// Why a session keeps its client's reads paused before the relay; reading resumes when none is left.
struct ClientReadHolds: OptionSet {
    let rawValue: UInt8

    /// The client's output queue is at `limits.buffer_size` or more (it does not read).
    static let output = ClientReadHolds(rawValue: 1 << 0)
    /// A login runs: further input waits in the kernel, where it is bounded.
    static let login = ClientReadHolds(rawValue: 1 << 1)
    /// The front end yielded with commands buffered; it resumes on a later turn of the queue.
    static let yield = ClientReadHolds(rawValue: 1 << 2)
}
