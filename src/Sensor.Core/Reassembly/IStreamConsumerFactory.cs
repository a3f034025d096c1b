namespace Sensor.Core.Reassembly;

/// <summary>Makes the consumer of a new connection (in practice, the protocol detector).</summary>
public interface IStreamConsumerFactory
{
    IStreamConsumer Create(TcpFlow flow);
}
