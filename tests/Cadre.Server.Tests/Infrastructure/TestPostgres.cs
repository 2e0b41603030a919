using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests use: a throw-away cluster started once per test run from the
/// PostgreSQL 15 binaries (as user <c>postgres</c> when running as root, since initdb refuses
/// root), or an existing server named by <c>CADRE_TEST_POSTGRES=Host=…</c>.
/// <c>CADRE_TEST_POSTGRES=off</c> opts out explicitly; otherwise a cluster that cannot start fails
/// the PostgreSQL tests with the reason, it never skips them.
/// </summary>
internal static class TestPostgres
{
    public const string SettingName = "CADRE_TEST_POSTGRES";

    private static readonly Lazy<Task<string>> Shared = new(StartSharedAsync);

    public static bool IsEnabled =>
        !string.Equals(Environment.GetEnvironmentVariable(SettingName), "off", StringComparison.OrdinalIgnoreCase);

    /// <summary>Creates an empty database on the shared server for one test app and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync() => await PostgresCluster.CreateDatabaseAsync(await Shared.Value);

    private static async Task<string> StartSharedAsync()
    {
        var setting = Environment.GetEnvironmentVariable(SettingName);
        if (!string.IsNullOrEmpty(setting) && setting.Contains('=', StringComparison.Ordinal))
        {
            return setting;
        }

        var cluster = await PostgresCluster.StartAsync(crashSafe: false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => cluster.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return cluster.ConnectionString;
    }
}

/// <summary>
/// A PostgreSQL cluster of the test run's own, which a test may stop and start again to see how
/// Cadre behaves when its database goes away.
/// </summary>
internal sealed class PostgresCluster : IAsyncDisposable
{
    private const string DefaultBinaries = "/usr/lib/postgresql/15/bin";

    private readonly string _binaries;
    private readonly string _root;
    private readonly int _port;

    private readonly bool _crashSafe;

    private PostgresCluster(string binaries, string root, int port, bool crashSafe)
    {
        _binaries = binaries;
        _root = root;
        _port = port;
        _crashSafe = crashSafe;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
        }.ConnectionString;
    }

    /// <summary>The maintenance database of the cluster.</summary>
    public string ConnectionString { get; }

    private string Data => Path.Combine(_root, "data");

    /// <summary>
    /// Starts a new cluster. A <paramref name="crashSafe"/> one keeps every commit it acknowledged
    /// through <see cref="StopServerAsync"/>; the shared one trades that for speed, since it never crashes.
    /// </summary>
    public static async Task<PostgresCluster> StartAsync(bool crashSafe = true)
    {
        var binaries = Environment.GetEnvironmentVariable("CADRE_TEST_POSTGRES_BIN") ?? DefaultBinaries;
        if (!File.Exists(Path.Combine(binaries, "initdb")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL tests need the PostgreSQL 15 server binaries in {binaries} (Debian: apt-get install postgresql-15), " +
                $"or {TestPostgres.SettingName}=Host=…;Username=… naming a server, or {TestPostgres.SettingName}=off to skip them explicitly.");
        }

        var root = TestDirectories.Create("postgres");
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", "postgres", root);
        }

        var cluster = new PostgresCluster(binaries, root, FreePort(), crashSafe);
        await RunAsync(Path.Combine(binaries, "initdb"), "-D", cluster.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await cluster.StartServerAsync();
        return cluster;
    }

    public static async Task<string> CreateDatabaseAsync(string serverConnectionString)
    {
        var name = $"cadre_test_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(serverConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    public Task<string> CreateDatabaseAsync() => CreateDatabaseAsync(ConnectionString);

    /// <summary>Starts the server (again), on the same port and data.</summary>
    public Task StartServerAsync() =>
        RunAsync(Path.Combine(_binaries, "pg_ctl"), "-D", Data, "-l", Path.Combine(_root, "server.log"), "-w", "-t", "60", "-o", ServerOptions, "start");

    /// <summary>Stops the server at once, as a crash would: open connections break, new ones are refused.</summary>
    public Task StopServerAsync() => RunAsync(Path.Combine(_binaries, "pg_ctl"), "-D", Data, "-m", "immediate", "-w", "stop");

    /// <summary>
    /// <c>pg_ctl restart -m immediate</c>: the server stops as a crash would (every connection breaks
    /// mid-statement) and comes back after crash recovery, on the same port.
    /// </summary>
    public Task RestartServerAsync() =>
        RunAsync(Path.Combine(_binaries, "pg_ctl"), "-D", Data, "-l", Path.Combine(_root, "server.log"), "-m", "immediate", "-w", "-t", "60", "-o", ServerOptions, "restart");

    // fsync stays off even when crash-safe: the tests crash PostgreSQL, never the machine.
    private string ServerOptions =>
        $"-p {_port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit={(_crashSafe ? "on" : "off")} -c full_page_writes=off -c max_connections=300";

    public async ValueTask DisposeAsync()
    {
        // Best effort, each step on its own: the server may already be gone with the test host.
        try
        {
            await StopServerAsync();
        }
        catch (InvalidOperationException)
        {
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Runs a PostgreSQL tool, as user postgres when this process is root.</summary>
    private static async Task RunAsync(string program, params string[] arguments)
    {
        var asPostgres = Environment.IsPrivilegedProcess && program != "chown";
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"Test PostgreSQL: '{program} {string.Join(' ', arguments)}' exited with {process.ExitCode}.\n" +
                $"{await output}\n{await error}\nSet {TestPostgres.SettingName}=off to skip the PostgreSQL tests explicitly.");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
