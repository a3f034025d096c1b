namespace Sensor.Core.Events;

/// <summary>What an observer of the wire learns about the secret.</summary>
public enum CredentialExposure : byte
{
    /// <summary>The password or bearer token itself is readable (LOGIN, USER/PASS, PLAIN, SASL LOGIN, XOAUTH2, OAUTHBEARER).</summary>
    Cleartext,
    /// <summary>Only a digest or challenge response crosses (APOP, CRAM-MD5, DIGEST-MD5, SCRAM-*, NTLM): open to offline guessing.</summary>
    Hashed,
    /// <summary>No reusable secret crosses (EXTERNAL, ANONYMOUS, GSSAPI).</summary>
    None,
    /// <summary>A SASL mechanism this sensor does not know.</summary>
    Unknown,
}
