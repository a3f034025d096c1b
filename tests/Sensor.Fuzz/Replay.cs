using Sensor.Fuzz.Targets;

namespace Sensor.Fuzz;

/// <summary>Runs a target on saved inputs (crashes, hangs, a corpus) without AFL, and says which fail.</summary>
internal static class Replay
{
    public static int Files(FuzzTarget target, IEnumerable<string> paths)
    {
        int failed = 0, ran = 0;
        foreach (var file in Expand(paths))
        {
            ran++;
            var started = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                target.Run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                failed++;
                // The exception as thrown: the sensor's messages and the harness's never hold a secret.
                Console.Error.WriteLine($"{file}: {e}");
                continue;
            }
            if (started.ElapsedMilliseconds > 1000)
                Console.Error.WriteLine($"{file}: ok but slow ({started.ElapsedMilliseconds} ms)");
        }
        Console.Error.WriteLine($"{target.Name}: {ran} inputs, {failed} failed");
        return failed == 0 && ran > 0 ? 0 : 1;
    }

    private static IEnumerable<string> Expand(IEnumerable<string> paths)
    {
        foreach (var p in paths)
        {
            if (Directory.Exists(p))
            {
                foreach (var f in Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                    if (!Path.GetFileName(f).StartsWith('.') && !IsNote(f)) yield return f;
            }
            else yield return p;
        }
    }

    /// <summary>AFL++'s README.txt in crashes/, a folder's README.md: notes, not inputs.</summary>
    private static bool IsNote(string path) => Path.GetFileName(path) is "README.txt" or "README.md";
}
