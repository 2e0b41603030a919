using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// The real server as a user runs it: a separate <c>dotnet Cadre.Server.dll</c> process with its
/// own environment, its console output captured, killable at any instant.
/// </summary>
public sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<string> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string? _bannerUrl;

    private ServerProcess(Process process) => _process = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The URL the server printed it listens on.</summary>
    public string Url { get; private set; } = "";

    public bool HasExited => _process.HasExited;

    /// <summary>The process ID, to read its memory and open descriptors from <c>/proc</c>.</summary>
    public int Id => _process.Id;

    public int ExitCode => _process.ExitCode;

    /// <summary>
    /// Settings for a server that a test kills and restarts: its admin key, outbound calls to the test's local sinks,
    /// a 100 ms poll, and 2 s leases (on PostgreSQL a dead process's leases are only taken back when they lapse), no
    /// rate limit; on <paramref name="database"/> (a PostgreSQL connection string) when given, else SQLite.
    /// </summary>
    public static Dictionary<string, string> KillableEnvironment(string adminKey, string? database = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["CADRE_ADMIN_KEY"] = adminKey,
            ["CADRE_OUTBOUND_ALLOW_PRIVATE_NETWORKS"] = "true",
            ["CADRE_ENGINE_POLL_INTERVAL"] = "00:00:00.100",
            ["CADRE_ENGINE_LEASE_DURATION"] = "00:00:02",
            ["CADRE_RATE_LIMIT_PERMITS_PER_SECOND"] = "0",
        };
        if (database is not null)
        {
            environment["CADRE_DATABASE"] = database;
        }

        return environment;
    }

    /// <summary>Starts the server in <paramref name="workingDirectory"/> with the given environment, on a free port.</summary>
    public static ServerProcess Start(string workingDirectory, IDictionary<string, string> environment) =>
        Start(workingDirectory, environment, ["Cadre.Server.dll"]);

    /// <summary>
    /// Starts <paramref name="program"/>, a program of the test's output and its arguments (<c>cadre.dll server</c>) or
    /// a program's full path (an installed tool), that runs the server, in <paramref name="workingDirectory"/> on a free port.
    /// </summary>
    public static ServerProcess Start(string workingDirectory, IDictionary<string, string> environment, IReadOnlyList<string> program)
    {
        ArgumentNullException.ThrowIfNull(program);
        var start = StartInfo(workingDirectory, environment, program[0], [.. program.Skip(1), "--urls", "http://127.0.0.1:0"]);
        var server = new ServerProcess(new Process { StartInfo = start, EnableRaisingEvents = true });
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.Exited += (_, _) => server._listening.TrySetException(new InvalidOperationException($"The server exited before listening:\n{server.Output}"));
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>Runs <c>dotnet Cadre.Server.dll</c> with arguments (a command such as <c>healthcheck</c>) to its end.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(IDictionary<string, string> environment, params string[] arguments)
    {
        using var process = Process.Start(StartInfo(TestDirectories.Create("command"), environment, "Cadre.Server.dll", arguments))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return (process.ExitCode, await output + await error);
    }

    private static ProcessStartInfo StartInfo(string workingDirectory, IDictionary<string, string> environment, string program, params string[] arguments)
    {
        // A .dll of the test's output runs under dotnet; a full path is a program of its own (an installed cadre tool).
        var assembly = program.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo(assembly ? "dotnet" : program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (assembly)
        {
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, program));
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("CADRE_", StringComparison.Ordinal) || k.StartsWith("ASPNETCORE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(name);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        return start;
    }

    /// <summary>Waits until the server prints that it listens, or fails with its output.</summary>
    public async Task WaitUntilListeningAsync()
    {
        Url = await _listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>Waits for the process to exit on its own (a refused start).</summary>
    public async Task<int> WaitForExitAsync()
    {
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flushing, as a crash or an OOM kill.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    /// <summary>The admin key the server printed, if it printed one.</summary>
    public string? PrintedAdminKey() => PrintedKey().Match(Output) is { Success: true } match ? match.Groups["key"].Value : null;

    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = new Uri(Url) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (Listening().Match(line) is { Success: true } match)
        {
            _bannerUrl = match.Groups["url"].Value;
        }
        else if (line.Length == 0 && _bannerUrl is not null)
        {
            // The banner is written in one piece and ends with a blank line: all of it has arrived.
            _listening.TrySetResult(_bannerUrl);
        }
    }

    [GeneratedRegex(@"^Cadre is listening on (?<url>http://[^\s,]+)")]
    private static partial Regex Listening();

    [GeneratedRegex(@"Instance admin key[^\n]*\n\s+(?<key>cadre_[A-Za-z0-9]+)")]
    private static partial Regex PrintedKey();
}
