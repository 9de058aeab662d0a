/// The server's parts the admin API reads.
extension Server {
    /// Every shard's sessions (snapshots, kicks).
    var sessionDirectory: SessionDirectory { SessionDirectory(shards: sessions) }
}
