namespace Sensor.Core.Flows;

public enum StreamDirection : byte
{
    ClientToServer = 0,
    ServerToClient = 1,
}
