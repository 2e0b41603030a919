using System.Security.Cryptography;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Server.Auth;

/// <summary>
/// The Data Protection key ring (which protects session cookies and CSRF tokens) lives in Cadre's
/// database, table <c>data_protection_keys</c> (created by migration 2), so every node reads the
/// same keys and a restart does not sign everyone out.
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
