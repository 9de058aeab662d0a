import PosternSync

@testable import PosternIO

/// What an endpoint told its delegate, in order.
enum ConnectionEvent: Equatable {
    case connected
    case received([UInt8])
    case eof
    case failed(IOError)
    case drained
    case tlsEstablished
}

/// A delegate that records every event (they arrive on the shard's queue) for the test thread to wait on.
final class RecordingDelegate: ConnectionDelegate, @unchecked Sendable {
    private let log = Mutex<[ConnectionEvent]>([])
    /// Runs on the shard's queue after each event is recorded (to act from inside a callback).
    var onEvent: ((any Connection, ConnectionEvent) -> Void)?

    var events: [ConnectionEvent] { log.withLock { $0 } }

    /// Every received byte, in order.
    var received: [UInt8] {
        events.flatMap { event -> [UInt8] in
            if case .received(let bytes) = event { return bytes }
            return []
        }
    }

    var failure: IOError? {
        for case .failed(let error) in events { return error }
        return nil
    }

    private func record(_ connection: any Connection, _ event: ConnectionEvent) {
        log.withLock { $0.append(event) }
        onEvent?(connection, event)
    }

    func connectionConnected(_ connection: any Connection) { record(connection, .connected) }
    func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer) {
        record(connection, .received(Array(bytes)))
    }
    func connectionReachedEOF(_ connection: any Connection) { record(connection, .eof) }
    func connection(_ connection: any Connection, failed error: IOError) { record(connection, .failed(error)) }
    func connectionDrained(_ connection: any Connection) { record(connection, .drained) }
    func connectionTLSEstablished(_ connection: any Connection) { record(connection, .tlsEstablished) }
}
