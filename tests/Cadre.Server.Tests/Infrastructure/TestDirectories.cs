using System.Diagnostics;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// Scratch directories under <c>/tmp/cadre-tests/&lt;pid&gt;/</c>. The test host may be killed
/// before it can clean up, so each run first removes what dead runs left behind, stopping any
/// PostgreSQL cluster still running there.
/// </summary>
internal static class TestDirectories
{
    private static readonly string Root = Path.Combine(Path.GetTempPath(), "cadre-tests");
    private static readonly Lazy<string> ForThisProcess = new(Prepare);

    public static string Create(string prefix)
    {
        var path = Path.Combine(ForThisProcess.Value, $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Prepare()
    {
        Directory.CreateDirectory(Root);
        // The postgres user must be able to reach its cluster directory inside.
        OpenUp(Root);
        foreach (var directory in Directory.GetDirectories(Root))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && !IsRunning(pid))
            {
                RemoveStale(directory);
            }
        }

        var mine = Path.Combine(Root, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(mine);
        OpenUp(mine);
        return mine;
    }

    private static void OpenUp(string directory)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111 | UnixFileMode.StickyBit);
        }
    }

    private static void RemoveStale(string directory)
    {
        foreach (var pidFile in Directory.EnumerateFiles(directory, "postmaster.pid", SearchOption.AllDirectories))
        {
            if (int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var postmaster) && IsRunning(postmaster))
            {
                try
                {
                    Process.GetProcessById(postmaster).Kill();
                }
                catch (Exception ex) when (ex is InvalidOperationException or ArgumentException)
                {
                    // Already gone.
                }
            }
        }

        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another run's leftovers that cannot go now will be tried again next time.
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
