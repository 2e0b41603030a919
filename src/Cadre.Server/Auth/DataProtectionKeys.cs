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
        return services;
    }
}
