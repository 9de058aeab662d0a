import PosternGuard
import XCTest

/// SipHash-2-4 against the reference vectors (key 00..0f, message 00..n-1) of the SipHash paper.
final class SipHash24Tests: XCTestCase {
    private let reference = SipHash24(key: Array(0..<16))!

    private func message(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0) } }

    func testReferenceVectors() {
        let expected: [Int: UInt64] = [
            0: 0x726f_db47_dd0e_0e31, 1: 0x74f8_39c5_93dc_67fd, 2: 0x0d6c_8009_d9a9_4f5a,
            7: 0xab02_00f5_8b01_d137, 8: 0x93f5_f579_9a93_2462, 15: 0xa129_ca61_49be_45e5,
            16: 0x3f2a_cc7f_57c2_9bdb, 17: 0x699a_e9f5_2cbe_4794,
        ]
        for (count, value) in expected {
            XCTAssertEqual(reference.hash(message(count)), value, "message of \(count) bytes")
        }
    }

    func testTheKeyChangesTheTag() {
        let other = SipHash24(k0: reference.k0 ^ 1, k1: reference.k1)
        XCTAssertNotEqual(other.hash(message(15)), reference.hash(message(15)))
        XCTAssertNil(SipHash24(key: Array(0..<15)))
    }

    func testRandomKeysDiffer() {
        XCTAssertNotEqual(SipHash24.random(), SipHash24.random())
    }
}
