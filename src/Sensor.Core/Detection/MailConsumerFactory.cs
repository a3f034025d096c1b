using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Core.Detection;

/// <summary>Every connection gets a classifier, behind a fault boundary of its own.</summary>
public sealed class MailConsumerFactory(AnalysisContext context) : IStreamConsumerFactory
{
    public IStreamConsumer Create(TcpFlow flow) => new FaultBoundary(new MailFlowClassifier(flow, context), flow, context.Counters);
}
