using System.Globalization;
using System.Net;

namespace Cadre.Server.Tests.Battery;

/// <summary>
/// A server process for the security items, with an instance admin key, no rate limit (the items
/// are the only callers) and one workspace, plus readings of its resident memory and open file
/// descriptors from <c>/proc/&lt;pid&gt;</c>.
/// </summary>
internal sealed class ServerUnderTest : IAsyncDisposable
{
    /// <summary>The items that measure a server process's memory and latency run one at a time, so they measure their own load.</summary>
    public const string Collection = "Battery server processes";

    private ServerUnderTest(ServerProcess process, string adminKey, string workspace)
    {
        Process = process;
        AdminKey = adminKey;
        Workspace = workspace;
        Admin = process.Client(adminKey);
    }

    public ServerProcess Process { get; }

    public string AdminKey { get; }

    /// <summary>Acts as owner in every workspace (docs/api.md).</summary>
    public HttpClient Admin { get; }

    public string Workspace { get; }

    public string WorkspacePath => $"/api/v1/workspaces/{Workspace}";

    public static async Task<ServerUnderTest> StartAsync(string name, IDictionary<string, string>? settings = null)
    {
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        var process = ServerProcess.Start(TestDirectories.Create(name), environment);
        try
        {
            await process.WaitUntilListeningAsync();
            using var admin = process.Client(adminKey);
            var workspace = Api.UniqueName(name);
            await (await admin.PostJsonAsync("/api/v1/workspaces", new { name = workspace })).ShouldBeAsync(HttpStatusCode.Created);
            return new ServerUnderTest(process, adminKey, workspace);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Resident memory (VmRSS), in bytes.</summary>
    public long ResidentBytes() =>
        File.ReadLines($"/proc/{Process.Id}/status")
            .Where(line => line.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(line => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024)
            .Single();

    /// <summary>Open file descriptors (sockets among them).</summary>
    public int OpenDescriptors() => Directory.GetFileSystemEntries($"/proc/{Process.Id}/fd").Length;

    /// <summary>Whether the process is alive and answers its liveness probe.</summary>
    public async Task<bool> IsHealthyAsync()
    {
        if (Process.HasExited)
        {
            return false;
        }

        using var client = Process.Client();
        client.Timeout = TimeSpan.FromSeconds(30);
        return (await client.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK;
    }

    public async ValueTask DisposeAsync()
    {
        Admin.Dispose();
        await Process.DisposeAsync();
    }
}

/// <summary>Samples a reading (resident memory, descriptors) in the background and keeps its peak.</summary>
internal sealed class PeakSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _peak;

    public PeakSampler(Func<long> read, TimeSpan? interval = null)
    {
        _peak = read();
        _loop = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(interval ?? TimeSpan.FromMilliseconds(50));
            try
            {
                while (await timer.WaitForNextTickAsync(_stop.Token))
                {
                    try
                    {
                        var value = read();
                        InterlockedMax(value);
                    }
                    catch (IOException)
                    {
                        // The process went away; the test's own checks say so.
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        });
    }

    public long Peak => Interlocked.Read(ref _peak);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private void InterlockedMax(long value)
    {
        var current = Interlocked.Read(ref _peak);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref _peak, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
