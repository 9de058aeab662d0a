import PosternIO

/// The dialler is the delegate of the connection of its current step; events of any other connection
/// (an abandoned one) are ignored, and a late connect of one closes it.
extension BackendDialler: ConnectionDelegate {
    func connectionConnected(_ connection: any Connection) {
        guard case .connecting(let candidate, let current, _, _) = step, current === connection else {
            // A connection of an older step: it has no owner any more.
            if step.connection !== connection {
                connection.delegate = nil
                connection.close()
            }
            return
        }
        connected(candidate, connection)
    }

    func connection(_ connection: any Connection, received bytes: UnsafeRawBufferPointer) {
        guard step.connection === connection else { return }
        received(Array(bytes))
    }

    func connectionReachedEOF(_ connection: any Connection) {
        guard step.connection === connection else { return }
        if case .connecting = step {
            addressFailed("backend closed the connection")
        } else {
            candidateFailed("backend closed the connection")
        }
    }

    func connection(_ connection: any Connection, failed error: IOError) {
        guard step.connection === connection else { return }
        if error.isLocal {
            localFailure(error)
        } else if case .connecting = step {
            addressFailed(error.message)
        } else {
            candidateFailed(error.message)
        }
    }

    func connectionDrained(_ connection: any Connection) {}

    func connectionTLSEstablished(_ connection: any Connection) {
        guard step.connection === connection else { return }
        tlsEstablished()
    }
}
