namespace Sensor.Core.Pop3;

/// <summary>What the next server line of a POP3 connection is (RFC 1939 §3-4).</summary>
internal enum Pop3ServerState : byte
{
    /// <summary>The first status line is the server's greeting (RFC 1939 §4).</summary>
    Greeting,
    /// <summary>Status lines (+OK, -ERR) answer the queued commands; "+ " lines are SASL challenges.</summary>
    Status,
    /// <summary>A multi-line answer's body, to its "." line (RFC 1939 §3); never read as status lines.</summary>
    Body,
    /// <summary>CAPA's capability list (RFC 2449 §5), to its "." line.</summary>
    CapaList,
    /// <summary>STLS was accepted (RFC 2595 §4): what follows is TLS and nothing more is parsed.</summary>
    Tls,
}
