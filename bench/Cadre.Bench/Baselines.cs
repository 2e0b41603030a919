using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cadre.Bench;

/// <summary>
/// The HTTP baseline: a bare Kestrel app in its own process on this machine, one minimal-API endpoint
/// (any method) answering a small JSON object. What an HTTP request costs before Cadre does anything.
/// </summary>
public sealed class BareHttpServer : IAsyncDisposable
{
    public const string Path = "/json";

    private readonly Process _process;

    private BareHttpServer(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    /// <summary>The JSON endpoint's absolute address.</summary>
    public Uri Address { get; }

    /// <summary>Starts this assembly again as <c>Cadre.Bench bare-http &lt;port&gt;</c> and waits until it answers.</summary>
    public static async Task<BareHttpServer> StartAsync()
    {
        var port = BenchServer.FreePort();
        var start = new ProcessStartInfo("dotnet", [typeof(BareHttpServer).Assembly.Location, "bare-http", port.ToString(System.Globalization.CultureInfo.InvariantCulture)])
        {
            RedirectStandardOutput = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the bare Kestrel process.");
        process.OutputDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        var server = new BareHttpServer(process, new Uri($"http://127.0.0.1:{port}{Path}"));
        using var client = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                if ((await client.GetAsync(server.Address)).StatusCode == HttpStatusCode.OK)
                {
                    return server;
                }
            }
            catch (HttpRequestException) when (!process.HasExited && DateTime.UtcNow < deadline)
            {
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The child process's side: Kestrel with default settings, logging at Warning, one endpoint.</summary>
    public static async Task ServeAsync(int port)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        app.Map(Path, () => TypedResults.Ok(new BareReply("bare", 1)));
        await app.RunAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private sealed record BareReply(string Service, int Version);
}

/// <summary>
/// The durability baseline: raw single-row commits, each row its own transaction, <c>concurrency</c>
/// connections at once. SQLite: a fresh file in WAL mode with the pragmas Cadre sets on its connections
/// (<c>synchronous = NORMAL</c>, <c>busy_timeout</c>, <c>wal_autocheckpoint = 16384</c>); PostgreSQL: a
/// scratch table in the given database, dropped afterwards. Every durable engine step is at least one
/// such commit, so runs/s and steps/s read against it.
/// </summary>
public static class CommitRate
{
    public static async Task<double> MeasureAsync(string? postgres, int concurrency, TimeSpan duration)
    {
        var rate = postgres is null ? await SqliteAsync(concurrency, duration) : await PostgresAsync(postgres, concurrency, duration);
        Console.WriteLine($"baseline: {rate:F0} single-row commits/s on {Figures.DatabaseOf(postgres)}, {concurrency} connections");
        return rate;
    }

    private static async Task<double> SqliteAsync(int concurrency, TimeSpan duration)
    {
        var directory = Directory.CreateTempSubdirectory("cadre-bench-commits-");
        try
        {
            var connectionString = new SqliteConnectionStringBuilder { DataSource = System.IO.Path.Combine(directory.FullName, "commits.db") }.ConnectionString;
            await using (var setup = new SqliteConnection(connectionString))
            {
                await setup.OpenAsync();
                await ExecuteAsync(setup, "PRAGMA journal_mode = WAL; CREATE TABLE commits (id INTEGER PRIMARY KEY, at TEXT NOT NULL, payload TEXT NOT NULL);");
            }

            return await LoopAsync(concurrency, duration, async () =>
            {
                var connection = new SqliteConnection(connectionString);
                await connection.OpenAsync();
                await ExecuteAsync(connection, "PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 16384;");
                return connection;
            }, "INSERT INTO commits (at, payload) VALUES ($at, $payload)");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            directory.Delete(recursive: true);
        }
    }

    private static async Task<double> PostgresAsync(string database, int concurrency, TimeSpan duration)
    {
        var table = $"bench_commits_{Environment.ProcessId}";
        await using var setup = new NpgsqlConnection(database);
        await setup.OpenAsync();
        await ExecuteAsync(setup, $"CREATE TABLE {table} (id bigserial PRIMARY KEY, at text NOT NULL, payload text NOT NULL)");
        try
        {
            return await LoopAsync(concurrency, duration, async () =>
            {
                var connection = new NpgsqlConnection(database);
                await connection.OpenAsync();
                return connection;
            }, $"INSERT INTO {table} (at, payload) VALUES (@at, @payload)");
        }
        finally
        {
            await ExecuteAsync(setup, $"DROP TABLE {table}");
        }
    }

    /// <summary>Each connection commits one row per transaction until the time is up (after a second of warm-up); answers commits/s.</summary>
    private static async Task<double> LoopAsync(int concurrency, TimeSpan duration, Func<Task<System.Data.Common.DbConnection>> open, string insert)
    {
        var commits = 0L;
        var warmUp = TimeSpan.FromSeconds(1);
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            await using var connection = await open();
            await using var command = connection.CreateCommand();
            command.CommandText = insert;
            var at = command.CreateParameter();
            at.ParameterName = "at";
            var payload = command.CreateParameter();
            payload.ParameterName = "payload";
            payload.Value = "{\"id\":1,\"status\":\"succeeded\"}";
            command.Parameters.Add(at);
            command.Parameters.Add(payload);
            while (clock.Elapsed < warmUp + duration)
            {
                await using var transaction = await connection.BeginTransactionAsync();
                command.Transaction = transaction;
                at.Value = DateTime.UtcNow.ToString("O");
                await command.ExecuteNonQueryAsync();
                await transaction.CommitAsync();
                if (clock.Elapsed > warmUp)
                {
                    Interlocked.Increment(ref commits);
                }
            }
        }));
        return commits / (clock.Elapsed - warmUp).TotalSeconds;
    }

    private static async Task ExecuteAsync(System.Data.Common.DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
