using Sensor.Core.Text;
using Sensor.Core.Events;
using Sensor.Core.Health;

namespace Sensor.Core.Mail;

/// <summary>What every analyzer of one pipeline shares: options, the event sink, counters.</summary>
public sealed class AnalysisContext
{
    public AnalysisContext(AnalysisOptions options, IEventSink sink, SensorCounters counters)
    {
        Options = options;
        Sink = sink;
        Counters = counters;
        LineBudget = new LineBudget(options.MaxPartialLineBytes, counters);
    }

    public LineBudget LineBudget { get; }

    public AnalysisOptions Options { get; }
    public IEventSink Sink { get; }
    public SensorCounters Counters { get; }
}
