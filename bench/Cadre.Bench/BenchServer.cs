using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Cadre.Bench;

public sealed record BenchSettings(string ServerDll, int Personas, int Requests, int Concurrency, string? Database);

/// <summary>A Cadre server in its own process, on a fresh data directory, with rate limiting off and quiet logs.</summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dataDir;

    // False once another process took the data directory over (StartAgainAsync): it deletes it.
    private bool _ownsDataDir = true;

    private BenchServer(Process process, string dataDir, Uri baseAddress, string adminKey)
    {
        _process = process;
        _dataDir = dataDir;
        BaseAddress = baseAddress;
        AdminKey = adminKey;
    }

    /// <summary>Where the server keeps its files, the SQLite database among them.</summary>
    public string DataDir => _dataDir;

    public Uri BaseAddress { get; }

    public string AdminKey { get; }

    /// <summary>The CPU time the server process has used so far (all its threads).</summary>
    public TimeSpan ProcessorTime
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    /// <summary>Starts a server; several nodes of one database share its <paramref name="adminKey"/> (random when not given).</summary>
    public static Task<BenchServer> StartAsync(BenchSettings settings, IReadOnlyDictionary<string, string>? environment = null, string? adminKey = null) =>
        StartAsync(settings, environment, adminKey, Directory.CreateTempSubdirectory("cadre-bench-").FullName);

    /// <summary>Stops the process and keeps its data, for something to be written into the database with no server running.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>Starts a new process on this one's data directory, database and admin key; the new one owns the data directory from now on.</summary>
    public async Task<BenchServer> StartAgainAsync(BenchSettings settings, IReadOnlyDictionary<string, string>? environment = null)
    {
        await StopAsync();
        var again = await StartAsync(settings, environment, AdminKey, _dataDir);
        _ownsDataDir = false;
        return again;
    }

    private static async Task<BenchServer> StartAsync(BenchSettings settings, IReadOnlyDictionary<string, string>? environment, string? adminKey, string dataDir)
    {
        var port = FreePort();
        adminKey ??= "bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var start = new ProcessStartInfo("dotnet", [settings.ServerDll, "--urls", $"http://127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["CADRE_DATA_DIR"] = dataDir,
                ["CADRE_ADMIN_KEY"] = adminKey,
                ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
            },
        };
        if (settings.Database is { } database)
        {
            start.Environment["CADRE_DATABASE"] = database;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the server.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine($"server: {e.Data}");
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var server = new BenchServer(process, dataDir, new Uri($"http://127.0.0.1:{port}"), adminKey);
        using var client = new HttpClient { BaseAddress = server.BaseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The server exited with code {process.ExitCode}.");
            }

            try
            {
                if ((await client.GetAsync("/readyz")).StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline)
            {
                await server.DisposeAsync();
                throw new TimeoutException("The server did not become ready within 60 s.");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process.Dispose();
        if (!_ownsDataDir)
        {
            return;
        }

        if (Environment.GetEnvironmentVariable("CADRE_BENCH_KEEP_DATA") == "1")
        {
            Console.WriteLine($"data directory kept: {_dataDir}");
        }
        else
        {
            Directory.Delete(_dataDir, recursive: true);
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
