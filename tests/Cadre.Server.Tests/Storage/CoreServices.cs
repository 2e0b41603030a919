using Cadre.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cadre.Server.Tests.Storage;

/// <summary>Cadre's Core services on a fresh database of either kind, without HTTP, for storage-level tests.</summary>
internal sealed class CoreServices : IAsyncDisposable
{
    private readonly ServiceProvider _provider;

    private CoreServices(ServiceProvider provider, string databaseSetting, string dataDir)
    {
        _provider = provider;
        DatabaseSetting = databaseSetting;
        DataDir = dataDir;
    }

    public string DatabaseSetting { get; }

    public string DataDir { get; }

    public IDbContextFactory<CadreDbContext> Contexts => _provider.GetRequiredService<IDbContextFactory<CadreDbContext>>();

    public StorageProvider Storage => _provider.GetRequiredService<StorageProvider>();

    public T Get<T>()
        where T : notnull => _provider.GetRequiredService<T>();

    /// <summary>A DI scope for the scoped Core services (the domain services and their DbContext).</summary>
    public CoreScope Scope() => new(_provider.CreateAsyncScope());

    public sealed class CoreScope(AsyncServiceScope scope) : IAsyncDisposable
    {
        public T Get<T>()
            where T : notnull => scope.ServiceProvider.GetRequiredService<T>();

        public ValueTask DisposeAsync() => scope.DisposeAsync();
    }

    public static async Task<CoreServices> CreateAsync(DatabaseKind database, string? databaseSetting = null)
    {
        var dataDir = TestDirectories.Create("core");
        databaseSetting ??= database == DatabaseKind.Sqlite
            ? "sqlite:" + Path.Combine(dataDir, "cadre.db")
            : await TestPostgres.CreateDatabaseAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Cadre:Database"] = databaseSetting,
            ["Cadre:DataDir"] = dataDir,
        }).Build();
        var provider = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
            .AddCadreCore()
            .BuildServiceProvider();
        return new CoreServices(provider, databaseSetting, dataDir);
    }

    /// <summary>A migrator over the given scripts, as a build that knows exactly those would have.</summary>
    public SchemaMigrator Migrator(IReadOnlyList<MigrationScript>? scripts = null) =>
        new(Contexts, Storage, NullLogger<SchemaMigrator>.Instance, TimeProvider.System, scripts);

    public IReadOnlyList<MigrationScript> EmbeddedScripts => MigrationScript.LoadEmbedded(Storage.MigrationsFolder);

    /// <summary>Runs raw SQL on the test database.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var db = await Contexts.CreateDbContextAsync();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    public async Task<int> IntAsync(string sql) =>
        Convert.ToInt32(await ScalarAsync(sql), System.Globalization.CultureInfo.InvariantCulture);

    public async Task<List<string>> ColumnsAsync(string table)
    {
        await using var db = await Contexts.CreateDbContextAsync();
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = Storage.Kind == DatabaseKind.Sqlite
            ? $"SELECT name FROM pragma_table_info('{table}')"
            : $"SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}'";
        await using var reader = await command.ExecuteReaderAsync();
        var columns = new List<string>();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    public async ValueTask DisposeAsync() => await _provider.DisposeAsync();
}
