/// The outcome of each configuration load in `postern_reloads_total{result}`. The generation and the time
/// of the last load that succeeded (`postern_config_generation`,
/// `postern_config_last_reload_success_timestamp_seconds`) are set by `configure(_:at:)`, which puts each
/// configuration that loaded into service.
extension Stats {
    /// A configuration load finished (the one at start, or a reload): counts the reloads (not the load at
    /// start).
    func configLoaded(_ record: ReloadRecord) {
        if record.attempt > 0 { reload(succeeded: record.succeeded) }
    }
}
