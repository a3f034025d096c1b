using Xunit;

namespace Sensor.Integration.Tests.Robustness;

/// <summary>
/// Tests that measure the managed heap run alone: other test classes allocating in parallel in the
/// same process would make the measurement meaningless.
/// </summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
