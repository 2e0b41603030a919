namespace Cadre.Cli.Tests.Infrastructure;

/// <summary>
/// A test that sends a <c>cadre</c> process SIGINT, as Ctrl+C does. Skipped, with the reason, where that cannot work: on
/// Windows, and where the tests run with SIGINT ignored (started as a background job of a non-interactive shell, as
/// <c>dotnet test &amp;</c> in a script), since every process they start inherits that and never sees the signal.
/// </summary>
public sealed class InterruptibleFactAttribute : FactAttribute
{
    public InterruptibleFactAttribute()
    {
        if (OperatingSystem.IsWindows())
        {
            Skip = "Ctrl+C is sent as SIGINT, which Windows does not have.";
        }
        else if (SigintIgnored())
        {
            Skip = "SIGINT is ignored in this process (it was started as a background job), so the cadre processes it starts cannot be interrupted.";
        }
    }

    /// <summary>Whether SIGINT (signal 2) is in this process's ignored set, as Linux shows it in /proc/self/status.</summary>
    private static bool SigintIgnored()
    {
        const string Field = "SigIgn:";
        var line = File.Exists("/proc/self/status") ? File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith(Field, StringComparison.Ordinal)) : null;
        return line is not null && (Convert.ToUInt64(line[Field.Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;
    }
}
