using System.Runtime.CompilerServices;

namespace Sensor.Core.Flows;

/// <summary>
/// How a packet arrived: the tags and tunnels around its innermost IP packet, outermost first, and
/// the <see cref="Realm"/> they put it in. A value type written by the frame decoder as it peels
/// layers off, so the per-packet path allocates nothing; a flow keeps the one of its first packet
/// for its events.
/// <para>
/// The realm separates tenants: two VXLAN or GENEVE networks (or two VLANs, or two GRE keys) may use
/// the same inner addresses, and their connections must never be mixed (the problem Suricata solves
/// by hashing VLAN ids into its flow key, and Zeek with its per-encapsulation connection keys).
/// Only identifiers that are the same in both directions of a connection go into it: MPLS labels
/// are chosen per hop and per direction, ERSPAN session ids name the mirror session rather than the
/// network, and outer addresses swap with the direction, so none of those separate connections.
/// </para>
/// </summary>
public struct Encapsulation : IEquatable<Encapsulation>
{
    /// <summary>Layers recorded for events; deeper stacks are still decoded and still separate tenants.</summary>
    public const int MaxRecorded = 8;

    private Layers _layers;
    private byte _count;

    /// <summary>Every layer seen, recorded or not.</summary>
    public int Depth { get; private set; }
    /// <summary>The tunnel layers (everything but VLAN tags), which the decoder bounds.</summary>
    public int TunnelDepth { get; private set; }
    /// <summary>Which kinds of layer are present (bit per <see cref="TunnelKind"/>), for counting.</summary>
    public ushort Kinds { get; private set; }
    /// <summary>0 for traffic with no tenant identifier; otherwise a mix of them (see the type's remarks).</summary>
    public ulong Realm { get; private set; }

    public readonly bool IsEmpty => Depth == 0;
    public readonly int Count => _count;

    public readonly (TunnelKind Kind, uint Id) this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
            ulong v = _layers[index];
            return ((TunnelKind)(byte)(v >> 32), (uint)v);
        }
    }

    /// <summary>False for layers that carry no identifier (IP in IP, ERSPAN type I, GRE without a key).</summary>
    public readonly bool HasId(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)_count, nameof(index));
        return (_layers[index] & HasIdBit) != 0;
    }

    public readonly bool Has(TunnelKind kind) => (Kinds & (1 << (int)kind)) != 0;

    private const ulong HasIdBit = 1UL << 40;
    private const ulong SeparatesBit = 1UL << 41;

    /// <summary>
    /// The layers that name the tenant network, outermost first ("vxlan:42", "vlan:10 vxlan:42"): what
    /// tells two servers or clients with the same address apart in reports and metrics. Null for
    /// traffic in no tenant network (<see cref="Realm"/> 0), so plain traffic shows nothing new.
    /// </summary>
    public readonly string? Tenant
    {
        get
        {
            if (Realm == 0) return null;
            var parts = new List<string>(_count);
            for (int i = 0; i < _count; i++)
                if ((_layers[i] & SeparatesBit) != 0) parts.Add($"{this[i].Kind.Name()}:{this[i].Id}");
            // Tenant layers beyond the recorded ones still made the realm: say so rather than show a name
            // another realm could share.
            return parts.Count > 0 && Depth <= _count ? string.Join(' ', parts) : $"realm:{Realm:x16}";
        }
    }

    /// <summary>
    /// Records one layer; <paramref name="separatesTenants"/> folds its id into <see cref="Realm"/>.
    /// <paramref name="sameLayer"/>: another entry of the layer just recorded (the next MPLS label),
    /// which does not count towards the tunnel depth.
    /// </summary>
    public void Add(TunnelKind kind, uint id, bool separatesTenants, bool hasId = true, bool sameLayer = false)
    {
        if (_count < MaxRecorded) _layers[_count++] = ((ulong)kind << 32) | id | (hasId ? HasIdBit : 0) | (separatesTenants ? SeparatesBit : 0);
        Depth++;
        if (kind != TunnelKind.Vlan && !sameLayer) TunnelDepth++;
        Kinds |= (ushort)(1 << (int)kind);
        if (separatesTenants)
        {
            // Order matters (VLAN 10 inside VNI 5 is not VNI 10 inside VLAN 5), hence a multiply-xorshift
            // chain rather than a plain xor; the layer kind is mixed in so VLAN 42 and VNI 42 differ.
            ulong h = Realm ^ (((ulong)kind << 32) | id);
            h *= 0x9E3779B97F4A7C15UL;
            h ^= h >> 31;
            Realm = h == 0 ? 1 : h;
        }
    }

    public readonly bool Equals(Encapsulation other)
    {
        if (_count != other._count || Depth != other.Depth || Realm != other.Realm || Kinds != other.Kinds) return false;
        for (int i = 0; i < _count; i++)
            if (_layers[i] != other._layers[i]) return false;
        return true;
    }

    public readonly override bool Equals(object? obj) => obj is Encapsulation other && Equals(other);
    public readonly override int GetHashCode() => HashCode.Combine(Realm, Depth, _count > 0 ? _layers[0] : 0UL);
    public static bool operator ==(Encapsulation a, Encapsulation b) => a.Equals(b);
    public static bool operator !=(Encapsulation a, Encapsulation b) => !a.Equals(b);

    /// <summary>"vxlan:42 vlan:10" — for logs and summaries.</summary>
    public readonly override string ToString()
    {
        var parts = new string[_count];
        for (int i = 0; i < _count; i++) parts[i] = HasId(i) ? $"{this[i].Kind.Name()}:{this[i].Id}" : this[i].Kind.Name();
        return string.Join(' ', parts);
    }

    [InlineArray(MaxRecorded)]
    private struct Layers
    {
        private ulong _element;
    }
}
