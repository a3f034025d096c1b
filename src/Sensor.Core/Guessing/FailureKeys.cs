namespace Sensor.Core.Guessing;

/// <summary>
/// A client as the detector counts it: its address within its tenant network
/// (<see cref="Flows.Encapsulation.Realm"/>, 0 for plain traffic). Two VXLAN tenants may both have a
/// 10.0.0.7; their failures are never added together, and never make one guessing alert.
/// </summary>
internal readonly record struct ClientKey(UInt128 Address, ulong Realm);

/// <summary>An account as the detector counts it: its name (cut to <see cref="PasswordGuessingDetector.MaxUsernameLength"/>) within its tenant network.</summary>
internal readonly record struct UsernameKey(string Name, ulong Realm);
