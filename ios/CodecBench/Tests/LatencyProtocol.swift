// The measurement protocol every codecnas backend follows (device_bench/protocol.py):
// cold = load + first prediction; `warmup` untimed predictions; `runs` timed ones; p50 and p90
// by linear interpolation between closest ranks (numpy's default), so the agent can check them.
import CoreML
import Foundation

func milliseconds(_ duration: Duration) -> Double {
    let parts = duration.components
    return Double(parts.seconds) * 1000.0 + Double(parts.attoseconds) / 1e15
}

func percentile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    let position = Double(sorted.count - 1) * q
    let low = Int(position.rounded(.down))
    let high = min(low + 1, sorted.count - 1)
    return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
}

/// SplitMix64: a seeded generator, so every run feeds the model the same numbers.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Inputs shaped as the model declares: an image tile `x` in [0, 1), or integer-valued latents
/// spread like a trained codec's (round(2 * N(0, 1))), as device_bench.backends.synthetic_inputs.
func syntheticInputs(for model: MLModel) throws -> MLDictionaryFeatureProvider {
    var generator = SeededGenerator(state: 0)
    var features: [String: MLFeatureValue] = [:]
    for (name, description) in model.modelDescription.inputDescriptionsByName {
        guard let constraint = description.multiArrayConstraint else {
            throw NSError(domain: "CodecBench", code: 1, userInfo: [
                NSLocalizedDescriptionKey: "input \(name) is not a multi-array"])
        }
        let array = try MLMultiArray(shape: constraint.shape, dataType: constraint.dataType)
        for index in 0..<array.count {
            let value: Double
            if name == "x" {
                value = Double.random(in: 0..<1, using: &generator)
            } else {
                let u1 = Double.random(in: Double.ulpOfOne..<1, using: &generator)
                let u2 = Double.random(in: 0..<1, using: &generator)
                value = (2.0 * (-2.0 * log(u1)).squareRoot() * cos(2.0 * .pi * u2)).rounded()
            }
            array[index] = NSNumber(value: value)
        }
        features[name] = MLFeatureValue(multiArray: array)
    }
    return try MLDictionaryFeatureProvider(dictionary: features)
}

func computeUnits(named name: String) throws -> MLComputeUnits {
    switch name {
    case "all": return .all
    case "cpu_only": return .cpuOnly
    case "cpu_and_gpu": return .cpuAndGPU
    case "cpu_and_ne": return .cpuAndNeuralEngine
    default:
        throw NSError(domain: "CodecBench", code: 2, userInfo: [
            NSLocalizedDescriptionKey: "unknown compute units \(name)"])
    }
}

/// Times `request` and fills the report's measurements.
func measure(_ request: BenchmarkRequest, modelURL: URL, into report: inout BenchmarkReport) throws {
    let clock = ContinuousClock()
    let configuration = MLModelConfiguration()
    configuration.computeUnits = try computeUnits(named: request.computeUnits)
    var model: MLModel?
    report.loadMs = milliseconds(clock.measure {
        model = try? MLModel(contentsOf: modelURL, configuration: configuration)
    })
    guard let model else {
        // Load again to surface Core ML's own error message in the report.
        _ = try MLModel(contentsOf: modelURL, configuration: configuration)
        throw NSError(domain: "CodecBench", code: 3, userInfo: [
            NSLocalizedDescriptionKey: "MLModel could not load \(request.model)"])
    }
    let inputs = try syntheticInputs(for: model)
    var firstError: Error?
    report.firstPredictionMs = milliseconds(clock.measure {
        do { _ = try model.prediction(from: inputs) } catch { firstError = error }
    })
    if let firstError { throw firstError }
    for _ in 0..<request.warmup {
        _ = try model.prediction(from: inputs)
    }
    var timings: [Double] = []
    for _ in 0..<request.runs {
        let start = clock.now
        _ = try model.prediction(from: inputs)
        timings.append(milliseconds(clock.now - start))
    }
    report.timingsMs = timings
    report.p50Ms = percentile(timings, 0.5)
    report.p90Ms = percentile(timings, 0.9)
}
