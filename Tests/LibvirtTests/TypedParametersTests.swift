import CLibvirt
import XCTest

@testable import Libvirt

final class TypedParametersTests: XCTestCase {
    func testEveryValueTypeSurvivesTheTripThroughLibvirtsCArray() throws {
        let original = TypedParameters([
            ("an_int", .int(-7)), ("a_uint", .uint(7)), ("a_llong", .llong(-1 << 40)),
            ("an_ullong", .ullong(1 << 63)), ("a_double", .double(2.5)), ("a_bool", .boolean(true)),
            ("a_string", .string("tcp://198.18.0.2")),
        ])
        let decoded = try original.withUnsafeParameters { p, n in
            XCTAssertEqual(n, 7)
            return TypedParameters(decoding: p, count: n)
        }
        XCTAssertEqual(decoded, original)
        XCTAssertEqual(decoded.keys, ["an_int", "a_uint", "a_llong", "an_ullong", "a_double", "a_bool", "a_string"])
    }

    func testLibvirtRejectsAKeyLongerThanItsFieldAndTheErrorSaysSo() {
        let tooLong = String(repeating: "k", count: 100)
        XCTAssertThrowsError(try TypedParameters([(tooLong, .ullong(1))]).withUnsafeParameters { _, _ in () }) { error in
            let e = error as? LibvirtError
            XCTAssertNotNil(e)
            XCTAssertTrue(e?.message.contains("too long") ?? false, "message: \(e?.message ?? "")")
        }
    }

    func testSettingAKeyTwiceReplacesItAndNilRemovesIt() {
        var p = TypedParameters()
        p["bandwidth"] = .ullong(10)
        p["bandwidth"] = .ullong(20)
        XCTAssertEqual(p["bandwidth"], .ullong(20))
        p["bandwidth"] = nil
        XCTAssertTrue(p.isEmpty)
    }

    func testUnsignedReadsAnyNonNegativeIntegerWidth() {
        XCTAssertEqual(TypedValue.int(5).unsigned, 5)
        XCTAssertNil(TypedValue.int(-5).unsigned)
        XCTAssertEqual(TypedValue.uint(5).unsigned, 5)
        XCTAssertEqual(TypedValue.llong(1 << 40).unsigned, 1 << 40)
        XCTAssertNil(TypedValue.string("5").unsigned)
    }
}

final class MigrationParametersTests: XCTestCase {
    func testOnlySetFieldsBecomeParametersUnderLibvirtsKeys() {
        let p = MigrationParameters(migrateURI: "tcp://198.18.0.2", destinationName: "g2", bandwidthMiBps: 12)
        let typed = p.typedParameters
        XCTAssertEqual(typed.keys, [VIR_MIGRATE_PARAM_URI, VIR_MIGRATE_PARAM_DEST_NAME, VIR_MIGRATE_PARAM_BANDWIDTH])
        XCTAssertEqual(typed["migrate_uri"], .string("tcp://198.18.0.2"))
        XCTAssertEqual(typed["destination_name"], .string("g2"))
        XCTAssertEqual(typed["bandwidth"], .ullong(12))
        XCTAssertTrue(MigrationParameters().typedParameters.isEmpty)
    }

    func testDecodingIsTheInverseOfEncoding() {
        let p = MigrationParameters(migrateURI: "tcp://h", destinationName: nil, destinationXML: "<domain/>", bandwidthMiBps: 3, listenAddress: "0.0.0.0")
        XCTAssertEqual(MigrationParameters(p.typedParameters), p)
    }

    func testFlagsAreLibvirtsBits() {
        XCTAssertEqual(MigrationFlags.live.rawValue, 1)
        XCTAssertEqual(MigrationFlags.peerToPeer.rawValue, 2)
        XCTAssertEqual(([.live, .peerToPeer] as MigrationFlags).rawValue, 3)
    }
}
