// One job per test run: read Documents/codecnas/request.json (copied by the Mac-side agent with
// `xcrun devicectl device copy to`), time the compiled model it names, write report.json next to
// it, and delete the job's model so the phone's storage never fills up.
import XCTest

final class CodecBenchTests: XCTestCase {
    private var jobRoot: URL {
        FileManager.default.urls(for: .documentDirectory, in: .userDomainMask)[0]
            .appendingPathComponent("codecnas", isDirectory: true)
    }

    func testBenchmarkRequest() throws {
        let requestURL = jobRoot.appendingPathComponent("request.json")
        let reportURL = jobRoot.appendingPathComponent("report.json")
        try? FileManager.default.removeItem(at: reportURL)  // never leave an old report to read
        let request = try JSONDecoder().decode(
            BenchmarkRequest.self, from: Data(contentsOf: requestURL))
        XCTAssertEqual(request.format, reportFormat, "request format")
        let modelURL = jobRoot.appendingPathComponent(request.model, isDirectory: true)
        var report = BenchmarkReport(for: request, device: thisDevice())
        do {
            try measure(request, modelURL: modelURL, into: &report)
        } catch {
            report.error = "\(error.localizedDescription) (\(error))"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(report).write(to: reportURL, options: .atomic)
        try? FileManager.default.removeItem(at: modelURL.deletingLastPathComponent())
        if let error = report.error {
            XCTFail("benchmark of \(request.model) failed: \(error)")
        }
    }
}
