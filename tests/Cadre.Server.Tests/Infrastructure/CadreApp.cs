using System.Net.Http.Headers;
using Cadre.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// One Cadre server on real Kestrel (127.0.0.1, a free port) against a real SQLite file or
/// PostgreSQL database of its own, with a known instance admin key.
/// </summary>
public sealed class CadreApp : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    private CadreApp(DatabaseKind database, string databaseSetting, string dataDir, string adminKey,
        IDictionary<string, string?>? settings, Action<IServiceCollection>? services)
    {
        Database = database;
        DatabaseSetting = databaseSetting;
        DataDir = dataDir;
        AdminKey = adminKey;
        _services = services;
        _settings = new Dictionary<string, string?>
        {
            ["Cadre:Database"] = databaseSetting,
            ["Cadre:DataDir"] = dataDir,
            ["Cadre:AdminKey"] = adminKey,
            // Limits are tested by apps that lower them; the shared apps must not throttle the suite.
            ["Cadre:RateLimit:PermitsPerSecond"] = "0",
            ["Cadre:Auth:SignInAttemptsPerMinute"] = "10000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }

        UseKestrel(0);
    }

    public DatabaseKind Database { get; }

    /// <summary>The <c>Cadre:Database</c> value, to start another app on the same database.</summary>
    public string DatabaseSetting { get; }

    public string DataDir { get; }

    public string AdminKey { get; }

    /// <summary>Starts an app on a new, empty database of the given kind (or on <paramref name="databaseSetting"/> to reuse one).</summary>
    public static async Task<CadreApp> StartAsync(
        DatabaseKind database,
        IDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null,
        string? databaseSetting = null,
        string? dataDir = null,
        string? adminKey = null)
    {
        dataDir ??= TestDirectories.Create("data");
        databaseSetting ??= database == DatabaseKind.Sqlite ? "sqlite" : await TestPostgres.CreateDatabaseAsync();
        adminKey ??= "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var app = new CadreApp(database, databaseSetting, dataDir, adminKey, settings, services);
        app.StartServer();
        return app;
    }

    /// <summary>A client of the running server, sending <paramref name="apiKey"/> as a bearer token when given.</summary>
    public HttpClient Client(string? apiKey = null)
    {
        var client = CreateClient();
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return client;
    }

    /// <summary>A client with a cookie jar of its own, as a browser has.</summary>
    public (HttpClient Client, System.Net.CookieContainer Cookies) BrowserClient()
    {
        var cookies = new System.Net.CookieContainer();
        using var probe = CreateClient();
        return (new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = probe.BaseAddress }, cookies);
    }

    /// <summary>A client authenticated with the instance admin key.</summary>
    public HttpClient AdminClient() => Client(AdminKey);

    /// <summary>Every message the app logged (at Debug and above), to check that no secret ever reaches a log.</summary>
    public LogCapture Logs { get; } = new();

    /// <summary>
    /// Stops the app, then closes the idle connections of its PostgreSQL pool: Npgsql keeps a pool per
    /// connection string for the whole process, idle connections for five minutes, and every app has a
    /// database (a connection string) of its own, so a suite of many apps would otherwise run the test
    /// cluster out of connections with the pools of apps long disposed.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        string? pooled = null;
        if (Database == DatabaseKind.Postgres)
        {
            try
            {
                pooled = Services.GetRequiredService<StorageProvider>().Target.ConnectionString;
            }
            catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
            {
                // Never started, or already disposed: no pool of its own to close.
            }
        }

        await base.DisposeAsync();
        if (pooled is not null)
        {
            await using var connection = new NpgsqlConnection(pooled);
            NpgsqlConnection.ClearPool(connection);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        // Host settings reach Program before its builder is built, as environment variables do in a real
        // start: what the server decides while registering services (OTLP export, the log format) sees them.
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(_settings));
        builder.ConfigureLogging(logging =>
        {
            logging.ClearProviders();
            logging.SetMinimumLevel(LogLevel.Debug);
            logging.AddProvider(Logs);
        });
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }
}

/// <summary>One long-lived app per database, shared by tests that need nothing special; each test works in workspaces of its own.</summary>
public static class SharedApps
{
    private static readonly Dictionary<DatabaseKind, Lazy<Task<CadreApp>>> Apps = new()
    {
        [DatabaseKind.Sqlite] = new(() => CadreApp.StartAsync(DatabaseKind.Sqlite)),
        [DatabaseKind.Postgres] = new(() => CadreApp.StartAsync(DatabaseKind.Postgres)),
    };

    public static Task<CadreApp> Get(DatabaseKind database) => Apps[database].Value;
}
