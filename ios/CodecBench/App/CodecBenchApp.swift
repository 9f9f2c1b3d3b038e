// The host app of the benchmark tests. It shows where jobs come from; the work happens in
// CodecBenchTests, which `xcodebuild test-without-building` runs inside this app's process.
import SwiftUI

@main
struct CodecBenchApp: App {
    var body: some Scene {
        WindowGroup {
            VStack(spacing: 12) {
                Text("CodecBench").font(.largeTitle)
                Text("Benchmarks run from the Mac: codecnas agent --backend iphone")
                    .multilineTextAlignment(.center)
                Text("Jobs and reports: Documents/codecnas").font(.footnote)
            }
            .padding()
        }
    }
}
