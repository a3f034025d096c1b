namespace Sensor.Core.Health;

/// <summary>
/// Every bound and every skipped input is counted here and shown in the summary and health
/// metrics; nothing is dropped silently. Plain fields: one pipeline owns one instance.
/// </summary>
public sealed class SensorCounters
{
    // Capture and decoding
    public long PacketsRead;
    public long BytesRead;
    public long PacketsNotIp;
    public long PacketsNotTcp;
    public long PacketsMalformed;
    public long PacketsTruncatedBySnaplen;
    /// <summary>Encapsulations the decoder does not know (GRE version 1, VXLAN without its I flag, ...).</summary>
    public long PacketsEncapsulationUnknown;
    /// <summary>More tunnel layers (or MPLS labels) than the decoder peels off.</summary>
    public long PacketsTooDeep;

    // Layers packets arrived in (a packet counts once per kind it carries)
    public long PacketsInVlan;
    public long PacketsInMpls;
    public long PacketsInPppoe;
    public long PacketsInGre;
    public long PacketsInErspan;
    public long PacketsInVxlan;
    public long PacketsInGeneve;
    public long PacketsInIpInIp;

    // IP fragment reassembly (RFC 791, RFC 8200 §4.5)
    public long IpFragments;
    public long IpDatagramsReassembled;
    /// <summary>Fragments whose every byte had already arrived (identical or not).</summary>
    public long IpFragmentsDuplicate;
    /// <summary>Fragments overlapping what had arrived with different bytes: the first bytes were kept.</summary>
    public long IpFragmentOverlapConflicts;
    /// <summary>Fragments that could not be used: cut by the snap length, a non-final piece not a multiple of 8 bytes.</summary>
    public long IpFragmentsInvalid;
    /// <summary>Datagrams given up: beyond 65,535 bytes, lengths that disagree, too many fragments.</summary>
    public long IpFragmentDatagramsDropped;
    public long IpFragmentDatagramsTimedOut;
    /// <summary>Datagrams pushed out by the bounds on datagrams or bytes in progress.</summary>
    public long IpFragmentDatagramsEvicted;
    /// <summary>Datagrams still incomplete at the end of the input.</summary>
    public long IpFragmentDatagramsIncomplete;

    // Flows
    public long FlowsCreated;
    public long FlowsClosed;
    public long FlowsExpired;
    public long FlowsEvictedAtLimit;
    public long SegmentsWithoutFlow;

    // Reassembly
    public long SegmentsOutOfOrder;
    public long BytesDuplicate;
    public long Gaps;
    public long GapBytes;
    public long BytesBufferedNow;
    public long BytesBufferedPeak;
    public long FlowBufferLimitHits;
    public long GlobalBufferLimitHits;
    public long SegmentsDroppedAtLimit;

    // Protocol detection and analysis
    public long FlowsImap;
    public long FlowsPop3;
    public long FlowsSmtp;
    public long FlowsNotMail;
    public long MailPortFlowsNotMail;
    public long LinesTooLong;
    /// <summary>Partial lines dropped because all connections together held the most allowed (LineBudget).</summary>
    public long LineBudgetHits;
    public long MalformedLines;
    public long LiteralsSkipped;
    public long LiteralBytesSkipped;
    /// <summary>SMTP message bodies (DATA to its "." line, BDAT chunks) skipped unread, and their bytes.</summary>
    public long MessageBodiesSkipped;
    public long MessageBodyBytesSkipped;
    public long PendingCommandOverflows;
    public long UnmatchedResponses;
    public long TlsUpgrades;
    /// <summary>Connections that turned to TLS where the STARTTLS exchange was lost: parsing stopped there.</summary>
    public long TlsWithoutStartTlsSeen;
    public long SaslExchangesAbortedEmpty;
    /// <summary>Credentials read after client bytes were lost that no answer proved to be commands: not reported.</summary>
    public long CredentialsUnproven;
    /// <summary>POP3 status lines after a loss that could not be paired with a command.</summary>
    public long AnswersAfterLoss;
    /// <summary>Times a POP3 probe re-established the order of answers after a loss.</summary>
    public long AnswerOrderRecovered;
    /// <summary>Connections whose analysis threw: that connection alone was given up.</summary>
    public long AnalyzerFaults;

    // Events
    public long AuthEvents;
    public long StartTlsEvents;

    /// <summary>
    /// Adds another instance's counts (the workers of one parallel read). Their buffers were held at
    /// the same time, so the peaks add up too: an upper bound of the combined peak.
    /// </summary>
    public void Add(SensorCounters other)
    {
        foreach (var f in typeof(SensorCounters).GetFields())
            if (f.FieldType == typeof(long))
                f.SetValue(this, (long)f.GetValue(this)! + (long)f.GetValue(other)!);
    }

    /// <summary>
    /// Adds the counts of a pipeline that ran after this one (the next capture file of a read): counts
    /// add up, while the buffers were not held at the same time, so the peak is the larger of the two.
    /// </summary>
    public void AddRun(SensorCounters later)
    {
        foreach (var f in typeof(SensorCounters).GetFields())
        {
            if (f.FieldType != typeof(long)) continue;
            long v = (long)f.GetValue(later)!;
            long mine = (long)f.GetValue(this)!;
            f.SetValue(this, f.Name == nameof(BytesBufferedPeak) ? Math.Max(mine, v) : mine + v);
        }
    }

    public void AddBuffered(long delta)
    {
        BytesBufferedNow += delta;
        if (BytesBufferedNow > BytesBufferedPeak) BytesBufferedPeak = BytesBufferedNow;
    }
}
