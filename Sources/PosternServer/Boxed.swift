/// An immutable value on the heap, for a rarely present field of a long-lived value: `Boxed<T>?` takes one
/// pointer inline where `T?` takes all of `T`'s room, present or not. Replaced, never mutated, so the value
/// that holds it keeps value semantics.
final class Boxed<Value: Sendable>: Sendable {
    let value: Value

    init(_ value: Value) { self.value = value }
}
