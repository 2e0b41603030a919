using System.Diagnostics;
using System.Net;
using Cadre.Server.Tests.Personas;
using Cadre.Server.Tests.Runs;
using Cadre.Server.Tests.Workflows;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// Battery item 6: a server process whose data directory (SQLite) is a small tmpfs that fills up. Writes
/// answer 503 problems, reads and the engine carry on, nothing acknowledged is lost, the file stays
/// sound, and writes succeed again once space returns, without a restart.
/// </summary>
[Trait("Battery", "6")]
public sealed partial class DiskFullTests(ITestOutputHelper output)
{
    private const int Instructions = 90_000;

    [TmpfsFact]
    public async Task DataDirectoryFills_WritesAnswer503_ReadsAndRunsCarryOn_AndWritesReturnWithSpace()
    {
        var directory = TestDirectories.Create("disk-full");
        var data = Path.Combine(directory, "data");
        Directory.CreateDirectory(data);
        Tmpfs.Mount(data, "48m");
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_DATA_DIR"] = data,
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
            ["CADRE_ENGINE_POLL_INTERVAL"] = "00:00:00.200",
            // An attempt whose commit found the disk full returns to the queue soon after space does.
            ["CADRE_ENGINE_LEASE_DURATION"] = "00:00:05",
        };
        var server = ServerProcess.Start(directory, environment);
        try
        {
            await server.WaitUntilListeningAsync();
            var admin = server.Client(adminKey);
            var name = Api.UniqueName("full");
            await (await admin.PostJsonAsync("/api/v1/workspaces", new { name })).ShouldBeAsync(HttpStatusCode.Created);
            var ownerKey = await admin.CreateKeyAsync(name, "owner");
            var owner = server.Client(ownerKey);
            owner.Timeout = TimeSpan.FromSeconds(60);
            var workspace = new TestWorkspace(name, "", ownerKey, owner);
            var flow = await workspace.CreateFlowAsync(
            [
                new { id = "nap", activity = new { uniqueIdentifier = "sleep" }, input = new { duration = "2s" } },
                new { id = "done", activity = new { uniqueIdentifier = "transform" }, dependsOn = new[] { "nap" }, input = new { done = true } },
            ]);
            var acknowledged = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                acknowledged.Add((string)(await workspace.CreatePersonaAsync($"before-{i}", new { instructions = Padding(i) }))["name"]!);
            }

            // Runs whose sleeps end while the disk is full: their commits fail until space returns.
            var runs = new List<string>();
            for (var i = 0; i < 10; i++)
            {
                runs.Add((string)(await workspace.StartAsync(flow, wait: null))["id"]!);
            }

            var filler = Path.Combine(data, "filler");
            var filled = Fill(filler);

            // Writes until the disk refuses a few in a row: each answers 201 (free pages were left) or 503.
            var statuses = new List<HttpStatusCode>();
            var titles = new HashSet<string>();
            var refusedInARow = 0;
            for (var i = 0; i < 200 && refusedInARow < 5; i++)
            {
                var persona = $"during-{i}";
                using var response = await owner.PostAsync(workspace.Path(), Api.JsonContent(PersonaApi.Body(persona, new { instructions = Padding(i) })));
                statuses.Add(response.StatusCode);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    acknowledged.Add(persona);
                    refusedInARow = 0;
                }
                else if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    var problem = await response.ShouldBeProblemAsync(HttpStatusCode.ServiceUnavailable);
                    titles.Add(problem.Title!);
                    response.Headers.RetryAfter.ShouldNotBeNull();
                    refusedInARow++;
                }
            }

            using var startWhileFull = await owner.PostAsync(workspace.Workflows($"/{flow}/runs"), Api.JsonContent(new { }));
            statuses.Add(startWhileFull.StatusCode);
            if (startWhileFull.StatusCode == HttpStatusCode.Created)
            {
                runs.Add((string)(await startWhileFull.ReadObjectAsync())["id"]!);
            }

            // Reads still work and the process lives on while the engine's commits fail.
            var readsWhileFull = 0;
            foreach (var persona in acknowledged)
            {
                readsWhileFull += (await owner.GetAsync(workspace.Path($"/{persona}"))).StatusCode == HttpStatusCode.OK ? 1 : 0;
            }

            var engineHitFull = await HoldsWithinAsync(() => EngineLoggedDiskFull(server.Output), TimeSpan.FromSeconds(20));
            var healthyWhileFull = (await server.Client().GetAsync("/healthz")).StatusCode == HttpStatusCode.OK;
            server.HasExited.ShouldBeFalse();

            File.Delete(filler);
            using var afterSpace = await Eventually.HoldsAsync(
                () => owner.PostAsync(workspace.Path(), Api.JsonContent(PersonaApi.Body("after", new { instructions = Padding(0) }))),
                r => r.StatusCode == HttpStatusCode.Created, "a write succeeds once space returns");
            acknowledged.Add("after");
            var kept = (await workspace.ListAllAsync(workspace.Path())).Select(p => (string)p["name"]!).ToHashSet();
            var lost = acknowledged.Count(p => !kept.Contains(p));
            var ended = new List<string>();
            foreach (var run in runs)
            {
                ended.Add((string)(await workspace.WaitForRunAsync(run, seconds: 90))["status"]!);
            }

            await server.KillAsync();
            var integrity = IntegrityCheck(Path.Combine(data, "cadre.db"));
            var refused = statuses.Count(s => s == HttpStatusCode.ServiceUnavailable);
            var serverErrors = statuses.Count(s => (int)s >= 500 && s != HttpStatusCode.ServiceUnavailable);
            BatteryReport.Reliability(output, 6, "disk full, SQLite", acknowledged.Count + runs.Count, acknowledged.Count - lost + ended.Count(s => s == "succeeded"), lost, 0,
                ended.Count(s => s is not ("succeeded" or "failed")),
                ("writes while full", statuses.Count), ("503", refused), ("other 5xx", serverErrors), ("reads while full ok", $"{readsWhileFull}/{acknowledged.Count - 1}"),
                ("engine hit the full disk", engineHitFull ? "yes" : "no"), ("filler MiB", filled / (1024 * 1024)), ("integrity_check", integrity));
            foreach (var line in server.Output.Split('\n').Where(l => l.Contains("full", StringComparison.OrdinalIgnoreCase)).Take(20))
            {
                output.WriteLine(line);
            }

            refused.ShouldBeGreaterThan(0, "the disk never filled");
            serverErrors.ShouldBe(0);
            statuses.ShouldAllBe(s => s == HttpStatusCode.Created || s == HttpStatusCode.ServiceUnavailable);
            titles.ShouldBe(["Storage full"]);
            readsWhileFull.ShouldBe(acknowledged.Count - 1);
            healthyWhileFull.ShouldBeTrue();
            engineHitFull.ShouldBeTrue("a run's commit met the full disk");
            lost.ShouldBe(0);
            ended.ShouldAllBe(s => s == "succeeded");
            integrity.ShouldBe("ok");
        }
        finally
        {
            await server.DisposeAsync();
            Tmpfs.Unmount(data);
        }
    }

    /// <summary>Instructions near the persona's limit, each different so nothing compresses into a shared page.</summary>
    private static string Padding(int seed) => string.Create(Instructions, seed, (span, s) =>
    {
        var random = new Random(s);
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = (char)('a' + random.Next(26));
        }
    });

    /// <summary>Writes <paramref name="path"/> until the device has no space left; answers the bytes written.</summary>
    private static long Fill(string path)
    {
        var chunk = new byte[64 * 1024];
        long written = 0;
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0);
        try
        {
            while (true)
            {
                file.Write(chunk);
                written += chunk.Length;
            }
        }
        catch (IOException)
        {
            // No space left on the device: what we wanted.
        }

        return written;
    }

    /// <summary>Whether a log entry of the engine (its header names a <c>Cadre.Runs</c> logger) carries SQLite's disk-full error.</summary>
    private static bool EngineLoggedDiskFull(string output) =>
        LogEntry().Split(output).Any(e => e.StartsWith("Cadre.Runs.", StringComparison.Ordinal) && e.Contains("disk is full", StringComparison.Ordinal));

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:trce|dbug|info|warn|fail|crit): ", System.Text.RegularExpressions.RegexOptions.Multiline)]
    private static partial System.Text.RegularExpressions.Regex LogEntry();

    private static async Task<bool> HoldsWithinAsync(Func<bool> condition, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > limit)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }

    private static string IntegrityCheck(string database)
    {
        using var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA integrity_check";
        return (string)command.ExecuteScalar()!;
    }
}

/// <summary>
/// A test that mounts a tmpfs: skipped with the reason where this process may not mount one (not root,
/// no <c>mount</c>, no tmpfs), rather than passed.
/// </summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.Unavailable.Value is { } reason)
        {
            Skip = reason;
        }
    }
}

internal static class Tmpfs
{
    /// <summary>Why a tmpfs cannot be mounted here, found by mounting a tiny one; null when it can.</summary>
    public static readonly Lazy<string?> Unavailable = new(() =>
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return "needs root to mount a tmpfs";
        }

        var probe = Path.Combine(Path.GetTempPath(), $"cadre-tmpfs-probe-{Environment.ProcessId}");
        Directory.CreateDirectory(probe);
        try
        {
            var (code, text) = Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", probe);
            if (code != 0)
            {
                return $"cannot mount a tmpfs: {text.Trim()}";
            }

            Run("umount", probe);
            return null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return $"cannot mount a tmpfs: {ex.Message}";
        }
        finally
        {
            Directory.Delete(probe);
        }
    });

    public static void Mount(string directory, string size)
    {
        var (code, text) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", directory);
        code.ShouldBe(0, text);
    }

    public static void Unmount(string directory)
    {
        // Lazily, should a killed process's handle still be closing.
        if (Run("umount", directory).ExitCode != 0)
        {
            Run("umount", "-l", directory);
        }
    }

    private static (int ExitCode, string Output) Run(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }
}
