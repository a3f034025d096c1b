using Sensor.Core.Mail;
using Sensor.Core.Reassembly;

namespace Sensor.Core.Detection;

public sealed class MailConsumerFactory(AnalysisContext context) : IStreamConsumerFactory
{
    public IStreamConsumer Create(TcpFlow flow) => new MailFlowClassifier(flow, context);
}
