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
    private const string DefaultBinaries = "/usr/lib/postgresql/15/bin";

    private static readonly Lazy<Task<Cluster>> Shared = new(StartAsync);

    public static bool IsEnabled =>
        !string.Equals(Environment.GetEnvironmentVariable(SettingName), "off", StringComparison.OrdinalIgnoreCase);

    /// <summary>Creates an empty database for one test app and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync()
    {
        var cluster = await Shared.Value;
        var name = $"cadre_test_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Runs SQL against the cluster's maintenance database (to drop or break a test database).</summary>
    public static async Task ExecuteAsync(string sql)
    {
        var cluster = await Shared.Value;
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<Cluster> StartAsync()
    {
        var setting = Environment.GetEnvironmentVariable(SettingName);
        if (!string.IsNullOrEmpty(setting) && setting.Contains('=', StringComparison.Ordinal))
        {
            return new Cluster(setting, null);
        }

        var binaries = Environment.GetEnvironmentVariable("CADRE_TEST_POSTGRES_BIN") ?? DefaultBinaries;
        if (!File.Exists(Path.Combine(binaries, "initdb")))
        {
            throw new InvalidOperationException(
                $"PostgreSQL tests need the PostgreSQL 15 server binaries in {binaries} (Debian: apt-get install postgresql-15), " +
                $"or {SettingName}=Host=…;Username=… naming a server, or {SettingName}=off to skip them explicitly.");
        }

        var root = TestDirectories.Create("postgres");
        var data = Path.Combine(root, "data");
        var port = FreePort();
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", "postgres", root);
        }

        await RunAsync(Path.Combine(binaries, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await RunAsync(Path.Combine(binaries, "pg_ctl"), "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60",
            "-o", $"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            "start");

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            // Best effort at exit, each step on its own: the server may already be gone with the test host.
            try
            {
                RunAsync(Path.Combine(binaries, "pg_ctl"), "-D", data, "-m", "immediate", "stop").GetAwaiter().GetResult();
            }
            catch (InvalidOperationException)
            {
            }

            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
            }
        };

        var connectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Database = "postgres",
        }.ConnectionString;
        return new Cluster(connectionString, root);
    }

    /// <summary>Runs a PostgreSQL tool, as user postgres when this process is root.</summary>
    private static async Task RunAsync(string program, params string[] arguments)
    {
        var asRoot = Environment.IsPrivilegedProcess && program != "chown";
        var start = new ProcessStartInfo(asRoot ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (asRoot)
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
                $"Starting the test PostgreSQL cluster failed: '{program} {string.Join(' ', arguments)}' exited with {process.ExitCode}.\n" +
                $"{await output}\n{await error}\nSet {SettingName}=off to skip the PostgreSQL tests explicitly.");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed record Cluster(string ConnectionString, string? Directory);
}
