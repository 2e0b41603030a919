using System.Security.Cryptography;
using System.Xml.Linq;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.Internal;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace Cadre.Server.Auth;

/// <summary>
/// The Data Protection key ring (which protects session cookies and CSRF tokens) lives in Cadre's
/// database, table <c>data_protection_keys</c> (created by migration 2), so every node reads the
/// same keys and a restart does not sign everyone out. Its first key is made at start-up, once
/// (<see cref="DataProtectionKeyRingSeed"/>).
/// </summary>
internal sealed class DataProtectionKeyContext(DbContextOptions<DataProtectionKeyContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
}

internal static class DataProtectionKeys
{
    public static IServiceCollection AddCadreDataProtection(this IServiceCollection services)
    {
        services.AddDbContext<DataProtectionKeyContext>((sp, options) => sp.GetRequiredService<StorageProvider>().Configure(options));
        services.AddDataProtection()
            .SetApplicationName("cadre")
            .PersistKeysToDbContext<DataProtectionKeyContext>();
        services.AddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        // After DatabaseInitializer (registered by AddCadreCore): the table must exist.
        services.AddHostedService<DataProtectionKeyRingSeed>();
        return services;
    }
}

/// <summary>Core's secret encryption, by the same key ring; a purpose string keeps these ciphertexts apart from cookies.</summary>
internal sealed class DataProtectionSecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("Cadre.Secrets.v1");

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string? Unprotect(string protectedText)
    {
        try
        {
            return _protector.Unprotect(protectedText);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}

/// <summary>
/// Makes the key ring's first key at start-up, under the setup lock, so an empty database gets exactly one.
/// Left to itself, Data Protection makes a key on first use wherever it finds none; two nodes doing so
/// at once would each encrypt with a key the other's cached ring lacks, and a node looks again for an
/// unknown key only in its first two minutes: for up to a day (the ring's refresh period), cookies
/// made on one node would not be accepted on the other. Keys after the first are made ahead of their
/// activation by the library itself, which gives every node's ring time to see them.
/// </summary>
internal sealed class DataProtectionKeyRingSeed(
    IDbContextFactory<CadreDbContext> contexts,
    StorageProvider storage,
    IOptions<KeyManagementOptions> keyManagement,
    IActivator activator,
    TimeProvider time,
    ILoggerFactory loggers) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        var dbTransaction = transaction.GetDbTransaction();
        await storage.LockForSetupAsync(connection, dbTransaction, cancellationToken);
        await using (var count = connection.CreateCommand())
        {
            count.Transaction = dbTransaction;
            count.CommandText = "SELECT COUNT(*) FROM data_protection_keys";
            if (Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) > 0)
            {
                return;
            }
        }

        // The library writes a new key through its repository, on a connection of its own, which the
        // lock held here would block on SQLite: make it write to memory, and insert that row here.
        var (element, friendlyName) = NewKeyElement();
        await using (var insert = connection.CreateCommand())
        {
            insert.Transaction = dbTransaction;
            insert.CommandText = "INSERT INTO data_protection_keys (friendly_name, xml) VALUES (@name, @xml)";
            AddParameter(insert, "@name", friendlyName);
            // As the library's EF Core repository stores it.
            AddParameter(insert, "@xml", element.ToString(SaveOptions.DisableFormatting));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        loggers.CreateLogger<DataProtectionKeyRingSeed>().LogInformation("Made the first Data Protection key ({Key})", friendlyName);
    }

    private (XElement Element, string FriendlyName) NewKeyElement()
    {
        var configured = keyManagement.Value;
        var memory = new MemoryXmlRepository();
        var options = new KeyManagementOptions
        {
            AuthenticatedEncryptorConfiguration = configured.AuthenticatedEncryptorConfiguration,
            XmlEncryptor = configured.XmlEncryptor,
            XmlRepository = memory,
            NewKeyLifetime = configured.NewKeyLifetime,
        };
        foreach (var factory in configured.AuthenticatedEncryptorFactories)
        {
            options.AuthenticatedEncryptorFactories.Add(factory);
        }

        foreach (var sink in configured.KeyEscrowSinks)
        {
            options.KeyEscrowSinks.Add(sink);
        }

        var now = time.GetUtcNow();
        new XmlKeyManager(Options.Create(options), activator, loggers).CreateNewKey(now, now + options.NewKeyLifetime);
        return memory.Stored.Single();
    }

    private static void AddParameter(System.Data.Common.DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }

    private sealed class MemoryXmlRepository : IXmlRepository
    {
        public List<(XElement Element, string FriendlyName)> Stored { get; } = [];

        public IReadOnlyCollection<XElement> GetAllElements() => Stored.Select(s => s.Element).ToList();

        public void StoreElement(XElement element, string friendlyName) => Stored.Add((element, friendlyName));
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
