using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;
using Sensor.Benchmarks.Support;

// dotnet run -c Release --project tests/Sensor.Benchmarks -- --filter '*'              (default job)
// dotnet run -c Release --project tests/Sensor.Benchmarks -- --filter '*' --job short  (quick, ~2 minutes)
// dotnet run -c Release --project tests/Sensor.Benchmarks -- --list flat               (what there is)
// Reports go to tests/Sensor.Benchmarks/BenchmarkDotNet.Artifacts/results (git-ignored) unless --artifacts says otherwise.
// dotnet run -c Release --project tests/Sensor.Benchmarks -- --flow-memory           (bytes per idle connection)
if (args is ["--flow-memory"])
{
    Sensor.Benchmarks.FlowMemory.Run();
    return;
}
var config = DefaultConfig.Instance.WithArtifactsPath(
    Path.Combine(GeneratedCapture.RepoRoot, "tests", "Sensor.Benchmarks", "BenchmarkDotNet.Artifacts"));
BenchmarkSwitcher.FromAssembly(typeof(NullSink).Assembly).Run(args, config);
