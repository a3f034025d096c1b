using Sensor.Fuzz;
using Sensor.Fuzz.Targets;

// Sensor.Fuzz TARGET                 under afl-fuzz (scripts/fuzz.sh): AFL++ hands the inputs
// Sensor.Fuzz TARGET PATH...         each file (or each file in a folder) once, without AFL
// Sensor.Fuzz seeds OUTDIR PCAPS    writes the committed `mail` and `sasl` seed corpora
const string Usage = "usage: Sensor.Fuzz pcap|mail|sasl [FILE|DIR...]\n       Sensor.Fuzz seeds OUTDIR PCAPS-DIR";

if (args.Length == 3 && args[0] == "seeds")
    return Seeds.Write(args[1], args[2]);

// Under afl-fuzz (one argument) only single-threaded checks: threads running instrumented code at once scramble AFL's edge map.
if (args.Length == 0 || FuzzTargets.Create(args[0], singleThreaded: args.Length == 1) is not { } target)
{
    Console.Error.WriteLine(Usage);
    return 2;
}

using (target)
{
    if (args.Length == 1)
    {
        var buffer = new byte[64 * 1024];
        SharpFuzz.Fuzzer.Run(stream =>
        {
            int length = 0;
            while (true)
            {
                if (length == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
                int n = stream.Read(buffer, length, buffer.Length - length);
                if (n == 0) break;
                length += n;
            }
            target.Run(buffer.AsSpan(0, length));
        });
        return 0;
    }
    return Replay.Files(target, args[1..]);
}
