// The request the Mac-side agent writes and the report this app writes back.
// Python side: device_bench/iphone_report.py; change both together (and the format string).
import Foundation

let reportFormat = "codecnas-bench-report/1"

struct BenchmarkRequest: Decodable {
    let format: String
    let jobID: String
    let model: String  // compiled model folder, relative to Documents/codecnas
    let part: String
    let tile: Int
    let warmup: Int
    let runs: Int
    let computeUnits: String
    let precision: String

    enum CodingKeys: String, CodingKey {
        case format, model, part, tile, warmup, runs, precision
        case jobID = "job_id"
        case computeUnits = "compute_units"
    }
}

struct DeviceDescription: Encodable {
    let model: String  // hardware identifier, e.g. "iPhone17,1"
    let name: String
    let os: String
}

struct BenchmarkReport: Encodable {
    let format = reportFormat
    let jobID: String
    let model: String
    let part: String
    let tile: Int
    let computeUnits: String
    let warmup: Int
    let runs: Int
    let device: DeviceDescription
    var loadMs: Double?
    var firstPredictionMs: Double?
    var timingsMs: [Double]?
    var p50Ms: Double?
    var p90Ms: Double?
    var error: String?

    enum CodingKeys: String, CodingKey {
        case format, model, part, tile, warmup, runs, device, error
        case jobID = "job_id"
        case computeUnits = "compute_units"
        case loadMs = "load_ms"
        case firstPredictionMs = "first_prediction_ms"
        case timingsMs = "timings_ms"
        case p50Ms = "p50_ms"
        case p90Ms = "p90_ms"
    }

    init(for request: BenchmarkRequest, device: DeviceDescription) {
        jobID = request.jobID
        model = request.model
        part = request.part
        tile = request.tile
        computeUnits = request.computeUnits
        warmup = request.warmup
        runs = request.runs
        self.device = device
    }

    // `error` is written as null when the run succeeded: the agent checks the key.
    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(format, forKey: .format)
        try c.encode(jobID, forKey: .jobID)
        try c.encode(model, forKey: .model)
        try c.encode(part, forKey: .part)
        try c.encode(tile, forKey: .tile)
        try c.encode(computeUnits, forKey: .computeUnits)
        try c.encode(warmup, forKey: .warmup)
        try c.encode(runs, forKey: .runs)
        try c.encode(device, forKey: .device)
        try c.encodeIfPresent(loadMs, forKey: .loadMs)
        try c.encodeIfPresent(firstPredictionMs, forKey: .firstPredictionMs)
        try c.encodeIfPresent(timingsMs, forKey: .timingsMs)
        try c.encodeIfPresent(p50Ms, forKey: .p50Ms)
        try c.encodeIfPresent(p90Ms, forKey: .p90Ms)
        try c.encode(error, forKey: .error)
    }
}

func thisDevice() -> DeviceDescription {
    var info = utsname()
    uname(&info)
    let machine = withUnsafeBytes(of: &info.machine) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
    let v = ProcessInfo.processInfo.operatingSystemVersion
    return DeviceDescription(
        model: machine,
        name: ProcessInfo.processInfo.hostName,
        os: "iOS \(v.majorVersion).\(v.minorVersion).\(v.patchVersion)"
    )
}
