namespace Sensor.Core.Events;

/// <summary>
/// An output can take no more events (a closed pipe, a full disk while reading files): the analysis
/// must stop rather than go on finding logins nobody will see. Unlike an analyzer's own bug, this is
/// not one connection's fault, so <see cref="Detection.FaultBoundary"/> lets it through.
/// </summary>
public sealed class EventSinkFailedException(string message, Exception? inner = null) : Exception(message, inner);
