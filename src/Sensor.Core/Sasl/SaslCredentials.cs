using Sensor.Core.Events;

namespace Sensor.Core.Sasl;

/// <summary>What a SASL exchange reveals: who, how exposed, and (only when asked) the secret itself.</summary>
public readonly record struct SaslCredentials(string? Username, string? Secret, CredentialExposure Exposure);
