import Foundation
import XCTest
@testable import MigscopeCore

final class DomainFactsTests: XCTestCase {
    func testVirtualCPUsReadFromBothSpellingsAndWrittenAsSnakeCaseWants() throws {
        let old = #"{"name":"g","uuid":"u","memoryBytes":1024,"virtualCPUs":2,"disks":["sda"]}"#
        let read = try JSONDecoder().decode(DomainFacts.self, from: Data(old.utf8))
        XCTAssertEqual(read, DomainFacts(name: "g", uuid: "u", memoryBytes: 1024, virtualCPUs: 2, disks: ["sda"]))
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        let snake = String(decoding: try e.encode(read), as: UTF8.self)
        XCTAssertTrue(snake.contains(#""virtual_cpus":2"#), snake)
        let again = try JSONDecoder().decode(DomainFacts.self, from: try JSONEncoder().encode(read))
        XCTAssertEqual(again, read)
    }
}
