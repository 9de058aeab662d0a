/// Why a reload was refused as a whole: each configuration issue (`FILE:LINE:COLUMN: KEY: MESSAGE`), or the
/// part that could not be put into service (TLS material, a map, a listener or the admin address that
/// cannot be bound).
struct ReloadRefusal: Error, Sendable {
    var errors: [String]
    init(_ errors: [String]) { self.errors = errors }
}
